// An unmodified `pubnub` JS SDK (the npm alias in PUBNUB: pubnub8 or pubnub11) pointed at Switchboard with `origin`.
// The test drives it with JSON commands on stdin, one per line; it prints what the SDK reports as JSON lines.
const PubNub = require(process.env.PUBNUB || 'pubnub8');
const readline = require('readline');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const pubnub = new PubNub({
  origin: process.env.ORIGIN, ssl: false,
  subscribeKey: process.env.KEY, publishKey: process.env.KEY,
  userId: process.env.UUID, authKey: process.env.TOKEN,
  restore: true,
  ...(process.env.HEARTBEAT ? { presenceTimeout: +process.env.HEARTBEAT } : {}),
  ...(process.env.EE ? { enableEventEngine: process.env.EE === '1' } : {}),
  ...(process.env.SEND_BY_POST ? { useRequestId: true } : {}),
  ...(process.env.FILTER ? { filterExpression: process.env.FILTER } : {}),
});
pubnub.addListener({
  message: (m) => out({ event: 'message', channel: m.channel, subscription: m.subscription, message: m.message,
    publisher: m.publisher, timetoken: String(m.timetoken), meta: m.userMetadata }),
  signal: (m) => out({ event: 'signal', channel: m.channel, message: m.message, publisher: m.publisher, timetoken: String(m.timetoken) }),
  presence: (p) => out({ event: 'presence', action: p.action, uuid: p.uuid, channel: p.channel, state: p.state, occupancy: p.occupancy }),
  status: (s) => out({ event: 'status', category: s.category, operation: s.operation, statusCode: s.statusCode,
    channels: s.affectedChannels || s.subscribedChannels }),
});

function reply(ref, p) {
  p.then((result) => out({ ref, ok: true, result }),
    (e) => out({ ref, ok: false, status: e && e.status ? e.status.statusCode : undefined,
      category: e && e.status ? e.status.category : undefined, message: String(e && e.message) }));
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  switch (c.op) {
    case 'subscribe':
      pubnub.subscribe(Object.assign({ channels: c.channels, withPresence: !!c.withPresence }, c.timetoken ? { timetoken: c.timetoken } : {}));
      break;
    case 'unsubscribeAll': pubnub.unsubscribeAll(); out({ event: 'unsubscribedAll' }); break;
    case 'setToken': pubnub.setToken(c.token); out({ event: 'tokenSet' }); break;
    case 'reconnect': pubnub.reconnect(); break;
    case 'publish': reply(c.ref, pubnub.publish({ channel: c.channel, message: c.message, sendByPost: !!c.sendByPost,
      ...(c.meta ? { meta: c.meta } : {}), ...(c.store === false ? { storeInHistory: false } : {}),
      ...(c.ttl ? { ttl: c.ttl } : {}), ...(c.norep ? { replicate: false } : {}) })); break;
    case 'signal': reply(c.ref, pubnub.signal({ channel: c.channel, message: c.message })); break;
    case 'setState': reply(c.ref, pubnub.setState({ channels: c.channels, state: c.state })); break;
    case 'getState': reply(c.ref, pubnub.getState({ channels: c.channels, uuid: c.uuid })); break;
    case 'hereNow': reply(c.ref, pubnub.hereNow({ channels: c.channels, includeUUIDs: true, includeState: !!c.includeState })); break;
    case 'whereNow': reply(c.ref, pubnub.whereNow({ uuid: c.uuid })); break;
    case 'history': reply(c.ref, pubnub.history({ channel: c.channel, count: c.count || 100, stringifiedTimeToken: true })); break;
    case 'fetchMessages': reply(c.ref, pubnub.fetchMessages(Object.assign({ channels: c.channels, count: c.count || 25,
      includeUUID: true, includeMeta: !!c.includeMeta }, c.start ? { start: c.start } : {}, c.end ? { end: c.end } : {}))); break;
    case 'time': reply(c.ref, pubnub.time()); break;
    case 'crash': process.exit(0); // no leave: what a killed agent does
    case 'exit': pubnub.stop ? pubnub.stop() : pubnub.destroy(); process.exit(0);
  }
});
out({ event: 'ready', version: PubNub.prototype && require((process.env.PUBNUB || 'pubnub8') + '/package.json').version });
