// A small client of Switchboard's native protocol v1 (docs/protocol.md) for the dashboard: connect with a token,
// requests matched by id, subscriptions that recover what they missed after a reconnect.
'use strict';

class SwitchboardClient {
  /**
   * @param url the gateway's WebSocket URL
   * @param tokenProvider async () => token; called for every (re)connect
   * @param onEvent (frame) => void for every event frame
   * @param onState (text) => void for connection state changes
   */
  constructor(url, tokenProvider, onEvent, onState) {
    this.url = url;
    this.tokenProvider = tokenProvider;
    this.onEvent = onEvent;
    this.onState = onState;
    this.nextId = 1;
    this.pending = new Map();
    this.positions = new Map(); // channel -> {offset, epoch}, the last one seen: recovery starts there
    this.channels = new Set();
    this.backoffMs = 250;
    this.ready = null;
    this.stopped = false;
  }

  connect() {
    if (!this.ready) this.ready = this.open();
    return this.ready;
  }

  async open() {
    this.onState('connecting…');
    const token = await this.tokenProvider();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, 'switchboard.v1');
      this.ws = ws;
      ws.onopen = () => {
        this.send({ type: 'request', method: 'connect', params: { token } }).then(r => {
          this.backoffMs = 250;
          this.client = r.client;
          this.onState('connected as ' + r.subject);
          resolve(r);
          for (const channel of this.channels) this.subscribe(channel).catch(() => {});
        }, reject);
      };
      ws.onmessage = m => this.frame(JSON.parse(m.data));
      ws.onclose = e => {
        for (const p of this.pending.values()) p.reject(new Error('connection closed (' + e.code + ')'));
        this.pending.clear();
        this.ready = null;
        reject(new Error('connection closed (' + e.code + ' ' + e.reason + ')'));
        if (this.stopped) return;
        const again = e.code === 1001 || e.code === 1006 || e.code >= 4500;
        this.onState('disconnected (' + e.code + (e.reason ? ' ' + e.reason : '') + ')' + (again ? ', reconnecting' : ''));
        if (again) {
          setTimeout(() => this.connect().catch(() => {}), this.backoffMs);
          this.backoffMs = Math.min(5000, this.backoffMs * 2);
        }
      };
    });
  }

  frame(f) {
    if (f.type === 'response') {
      const p = this.pending.get(f.id);
      if (!p) return;
      this.pending.delete(f.id);
      if (f.error) p.reject(Object.assign(new Error(f.error.code + ': ' + f.error.message), { code: f.error.code }));
      else p.resolve(f.result);
    } else if (f.type === 'event') {
      if (f.offset !== undefined) this.positions.set(f.channel, { offset: f.offset, epoch: f.epoch });
      this.onEvent(f);
    }
  }

  send(frame) {
    const id = String(this.nextId++);
    frame.id = id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify(frame));
    });
  }

  async request(method, params) {
    await this.connect();
    return this.send({ type: 'request', method, params });
  }

  /** Subscribes (again after a reconnect) from the last position seen, so nothing is missed or repeated. */
  async subscribe(channel) {
    await this.connect();
    this.channels.add(channel);
    const pos = this.positions.get(channel);
    const entry = pos && pos.epoch ? { channel, recover: pos } : channel;
    const r = await this.send({ type: 'subscribe', channels: [entry] });
    const answer = r.channels[0];
    if (!answer.ok) {
      this.channels.delete(channel);
      throw new Error(answer.error.code + ': ' + answer.error.message);
    }
    if (answer.epoch && (!pos || answer.recovered === false)) this.positions.set(channel, { offset: answer.offset, epoch: answer.epoch });
    return answer;
  }

  async unsubscribe(channel) {
    this.channels.delete(channel);
    this.positions.delete(channel);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) await this.send({ type: 'unsubscribe', channels: [channel] }).catch(() => {});
  }
}
