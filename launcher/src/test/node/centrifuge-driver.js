// An unmodified centrifuge-js v5 client driven by a JUnit test: commands come as JSON lines on stdin, everything
// the client sees goes out as JSON lines on stdout ({"event": …}). The WebSocket is the `ws` package, wrapped only
// to count the bytes received and to let the test cut or stall the connection.
'use strict';
const { Centrifuge } = require('centrifuge');
const WebSocket = require('ws');
const crypto = require('crypto');
const readline = require('readline');

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const digest = (data) => crypto.createHash('sha256').update(JSON.stringify(data)).digest('hex');

let current = null; // the live WebSocket
let held = false; // while set, reconnects go nowhere (a network that is down)
const wire = { bytes: 0, messages: 0 };
class TrackedWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(held ? url.replace(/\/\/[^/]+\//, '//127.0.0.1:1/') : url, protocols);
    current = this;
    this.on('message', (data) => {
      wire.bytes += data.length;
      wire.messages++;
    });
  }
}

let client = null;
const subs = {};
const tokenWaiters = [];

function errorOf(e) {
  return { code: e && e.code, message: e && e.message, temporary: !!(e && e.temporary) };
}

function publicationEvent(channel, ctx, print, extra) {
  const e = Object.assign({ event: 'publication', channel, offset: ctx.offset, tags: ctx.tags, info: ctx.info }, extra);
  if (print === 'digest') {
    // large payloads: only a digest of the data as JSON text, and its sequence number
    e.digest = digest(ctx.data);
    e.seq = ctx.data && ctx.data.seq;
  }
  else e.data = ctx.data;
  return e;
}

function connect(cmd) {
  const options = Object.assign({ websocket: TrackedWebSocket, minReconnectDelay: 50, maxReconnectDelay: 300 }, cmd.options || {});
  if (cmd.token) options.token = cmd.token;
  if (cmd.getToken) {
    options.getToken = () => new Promise((resolve) => {
      tokenWaiters.push(resolve);
      out({ event: 'getToken' });
    });
  }
  let endpoint = cmd.url;
  if (cmd.transports) {
    // WebSocket disabled: only the bidirectional emulation transports (HTTP streaming, SSE)
    endpoint = cmd.transports;
    Object.assign(options, { emulationEndpoint: cmd.emulationEndpoint, fetch: globalThis.fetch,
      readableStream: globalThis.ReadableStream, eventsource: require('eventsource') });
  }
  client = new Centrifuge(endpoint, options);
  client.on('connecting', (ctx) => out({ event: 'connecting', code: ctx.code, reason: ctx.reason }));
  client.on('connected', (ctx) => out({ event: 'connected', client: ctx.client, transport: ctx.transport }));
  client.on('disconnected', (ctx) => out({ event: 'disconnected', code: ctx.code, reason: ctx.reason }));
  client.on('error', (ctx) => out({ event: 'error', type: ctx.type, error: errorOf(ctx.error) }));
  // server-side subscriptions (the personal channel)
  client.on('subscribed', (ctx) => out({ event: 'serverSubscribed', channel: ctx.channel, recoverable: ctx.recoverable,
    positioned: ctx.positioned, streamPosition: ctx.streamPosition, wasRecovering: ctx.wasRecovering, recovered: ctx.recovered }));
  client.on('publication', (ctx) => out(publicationEvent(ctx.channel, ctx, 'full', { server: true })));
  client.connect();
}

function subscribe(cmd) {
  const sub = client.newSubscription(cmd.channel, cmd.options || {});
  subs[cmd.channel] = sub;
  const ch = cmd.channel;
  sub.on('subscribing', (ctx) => out({ event: 'subscribing', channel: ch, code: ctx.code, reason: ctx.reason }));
  sub.on('subscribed', (ctx) => out({ event: 'subscribed', channel: ch, recoverable: ctx.recoverable, positioned: ctx.positioned,
    streamPosition: ctx.streamPosition, wasRecovering: ctx.wasRecovering, recovered: ctx.recovered }));
  sub.on('unsubscribed', (ctx) => out({ event: 'unsubscribed', channel: ch, code: ctx.code, reason: ctx.reason }));
  sub.on('error', (ctx) => out({ event: 'subError', channel: ch, type: ctx.type, error: errorOf(ctx.error) }));
  sub.on('publication', (ctx) => out(publicationEvent(ch, ctx, cmd.print)));
  sub.on('join', (ctx) => out({ event: 'join', channel: ch, info: ctx.info }));
  sub.on('leave', (ctx) => out({ event: 'leave', channel: ch, info: ctx.info }));
  sub.subscribe();
}

function answer(ref, promise, shape) {
  promise.then((r) => out(Object.assign({ event: 'result', ref }, shape ? shape(r) : { result: r })),
    (e) => out({ event: 'failed', ref, error: errorOf(e) }));
}

const commands = {
  connect,
  subscribe,
  token: (cmd) => tokenWaiters.shift()(cmd.token),
  unsubscribe: (cmd) => subs[cmd.channel].unsubscribe(),
  publish: (cmd) => answer(cmd.ref, client.publish(cmd.channel, cmd.data)),
  presence: (cmd) => answer(cmd.ref, client.presence(cmd.channel)),
  presenceStats: (cmd) => answer(cmd.ref, client.presenceStats(cmd.channel)),
  history: (cmd) => answer(cmd.ref, client.history(cmd.channel, cmd.options || {})),
  rpc: (cmd) => answer(cmd.ref, client.rpc(cmd.method, cmd.data)),
  // the transport dies without a close handshake (a network cut): the client reconnects and recovers
  cut: (cmd) => {
    held = !!cmd.hold;
    current.terminate();
  },
  // the network is back: the next reconnect attempt reaches the server
  release: () => { held = false; },
  // the client stops reading its socket (a stalled browser tab)
  pause: () => current._socket.pause(),
  resume: () => current._socket.resume(),
  stats: (cmd) => {
    const sub = cmd.channel ? subs[cmd.channel] : null;
    out({ event: 'stats', bytes: wire.bytes, messages: wire.messages, delta: sub ? sub.deltaStats() : null });
  },
  disconnect: () => client.disconnect(),
  exit: () => process.exit(0),
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
    commands[cmd.op](cmd);
  } catch (e) {
    out({ event: 'driverError', line, message: String(e && e.stack || e) });
  }
});
process.stdin.on('end', () => process.exit(0));
out({ event: 'ready' });
