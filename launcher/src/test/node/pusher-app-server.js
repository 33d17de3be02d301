// The app backend of a Pusher user, on the real `pusher` server library: it authorizes channels and users over HTTP
// (Bearer header, as the browser extension sends it), and triggers events / calls the HTTP API when the test asks.
// Prints {"event":"listening","port":N}; every request it serves for the test answers JSON.
const http = require('http');
const Pusher = require('pusher');

const pusher = new Pusher({
  appId: process.env.APP_ID, key: process.env.APP_KEY, secret: process.env.APP_SECRET,
  host: '127.0.0.1', port: process.env.HTTP_PORT, useTLS: false,
});
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function body(req) {
  return new Promise((resolve) => {
    let b = '';
    req.on('data', (c) => { b += c; });
    req.on('end', () => resolve(b));
  });
}

async function answer(res, promise) {
  try {
    const r = await promise;
    let text = r && typeof r.text === 'function' ? await r.text() : JSON.stringify(r === undefined ? {} : r);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: r && r.status ? r.status : 200, body: text }));
  } catch (e) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: e.status || 0, body: e.body || String(e.message || e) }));
  }
}

const server = http.createServer(async (req, res) => {
  const raw = await body(req);
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/api/pusher/auth' || url.pathname === '/pusher/user-auth') {
    if (req.headers.authorization !== 'Bearer ' + process.env.APP_BEARER) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'forbidden' }));
      return;
    }
    const form = new URLSearchParams(raw);
    const socketId = form.get('socket_id');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.pathname === '/pusher/user-auth') {
      const id = url.searchParams.get('user') || process.env.USER_ID || 'user-1';
      res.end(JSON.stringify(pusher.authenticateUser(socketId, { id, name: 'name-' + id })));
      return;
    }
    const channel = form.get('channel_name');
    const user = url.searchParams.get('user') || process.env.USER_ID || 'user-1';
    const auth = channel.startsWith('presence-')
      ? pusher.authorizeChannel(socketId, channel, { user_id: user, user_info: { name: 'name-' + user } })
      : pusher.authorizeChannel(socketId, channel);
    res.end(JSON.stringify(auth));
    return;
  }
  // test controls: the library's own calls against Switchboard
  const c = raw ? JSON.parse(raw) : {};
  switch (url.pathname) {
    case '/trigger': return answer(res, pusher.trigger(c.channels, c.name, c.data, c.params || {}));
    case '/batch': return answer(res, pusher.triggerBatch(c.batch));
    case '/get': return answer(res, pusher.get({ path: c.path, params: c.params || {} }));
    case '/send-to-user': return answer(res, pusher.sendToUser(c.user, c.name, c.data));
    case '/terminate': return answer(res, pusher.terminateUserConnections(c.user));
    case '/webhook-check': {
      const wh = pusher.webhook({ headers: c.headers, rawBody: c.body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ valid: wh.isValid(), events: wh.isValid() ? wh.getEvents() : null }));
      return;
    }
    default:
      res.writeHead(404);
      res.end('{}');
  }
});
server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));
