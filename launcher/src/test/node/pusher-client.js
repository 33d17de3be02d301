// An unmodified pusher-js 8 client (its Node build) pointed at Switchboard with wsHost/wsPort. The test drives it with
// JSON commands on stdin, one per line; it prints what the client sees as JSON lines.
const Pusher = require('pusher-js');
const readline = require('readline');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const headers = { Authorization: 'Bearer ' + (process.env.APP_BEARER || '') };
const pusher = new Pusher(process.env.APP_KEY, {
  cluster: 'mt1', wsHost: '127.0.0.1', wsPort: +process.env.WS_PORT, forceTLS: false, enabledTransports: ['ws'],
  channelAuthorization: { endpoint: process.env.AUTH_URL + '/api/pusher/auth' + (process.env.AUTH_QUERY || ''), transport: 'ajax', headers },
  userAuthentication: { endpoint: process.env.AUTH_URL + '/pusher/user-auth' + (process.env.AUTH_QUERY || ''), transport: 'ajax', headers },
});
pusher.connection.bind('state_change', (s) => out({ event: 'state', previous: s.previous, current: s.current }));
pusher.connection.bind('connected', () => out({ event: 'connected', socketId: pusher.connection.socket_id }));
pusher.connection.bind('error', (e) => out({ event: 'connection_error', error: e && e.error ? e.error : String(e) }));

function members(ch) {
  const ids = [];
  ch.members.each((m) => ids.push(m.id));
  return { count: ch.members.count, ids: ids.sort() };
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  switch (c.cmd) {
    case 'subscribe': {
      const ch = pusher.subscribe(c.channel);
      ch.bind('pusher:subscription_succeeded', () => out(Object.assign({ event: 'subscribed', channel: c.channel },
        c.channel.startsWith('presence-') ? { members: members(ch) } : {})));
      ch.bind('pusher:subscription_error', (e) => out({ event: 'subscription_error', channel: c.channel, status: e.status, error: e.error || e.type }));
      ch.bind('pusher:cache_miss', () => out({ event: 'cache_miss', channel: c.channel }));
      ch.bind('pusher:member_added', (m) => out({ event: 'member_added', channel: c.channel, id: m.id, info: m.info, members: members(ch) }));
      ch.bind('pusher:member_removed', (m) => out({ event: 'member_removed', channel: c.channel, id: m.id, members: members(ch) }));
      const named = new Set(c.events || []);
      // bind() hands over the metadata (user_id of presence client events); bind_global does not
      named.forEach((name) => ch.bind(name, (data, metadata) => out({ event: 'message', channel: c.channel, name, data,
        userId: metadata && metadata.user_id })));
      ch.bind_global((name, data) => {
        if (name.startsWith('pusher:') || name.startsWith('pusher_internal:') || named.has(name)) return;
        out({ event: 'message', channel: c.channel, name, data });
      });
      break;
    }
    case 'unsubscribe': pusher.unsubscribe(c.channel); out({ event: 'unsubscribed', channel: c.channel }); break;
    case 'client-event': out({ event: 'client-event-sent', ok: pusher.channel(c.channel).trigger(c.name, c.data) }); break;
    case 'signin':
      pusher.user.bind(c.bind || 'to-user', (data) => out({ event: 'user_message', name: c.bind || 'to-user', data }));
      pusher.signin();
      pusher.user.signinDonePromise.then(() => out({ event: 'signed_in', userId: pusher.user.user_data && pusher.user.user_data.id }));
      break;
    case 'members': out(Object.assign({ event: 'members', channel: c.channel }, members(pusher.channel(c.channel)))); break;
    case 'disconnect': pusher.disconnect(); break;
    case 'exit': process.exit(0);
  }
});
out({ event: 'started' });
