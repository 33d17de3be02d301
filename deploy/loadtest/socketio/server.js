// Socket.IO 4 baseline for the Switchboard load test: what many users would run instead for a fan-out.
// A client connects to the default namespace with auth {channel}, and is joined to that room; a publisher emits
// "pub"(channel, data) and the server emits "m"(data) to the room. WebSocket transport only, no compression.
// GET /stats answers {connections, heapUsed, rss} after a forced GC (node --expose-gc).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const { Server } = require('socket.io');
const version = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules/socket.io/package.json'), 'utf8')).version;

const port = Number(process.env.PORT || 3000);
const parentPid = Number(process.env.PARENT_PID || 0);

const httpServer = http.createServer((req, res) => {
  if (req.url === '/stats') {
    if (global.gc) { global.gc(); global.gc(); }
    const m = process.memoryUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ connections: io.engine.clientsCount, heapUsed: m.heapUsed, external: m.external,
      arrayBuffers: m.arrayBuffers, rss: m.rss, version, node: process.version }));
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 1e6,
});

io.on('connection', (socket) => {
  const channel = socket.handshake.auth && socket.handshake.auth.channel;
  if (channel) socket.join(channel);
  socket.on('pub', (ch, data) => io.to(ch).emit('m', data));
});

httpServer.listen(port, '127.0.0.1', () => console.log(`socketio: listening on 127.0.0.1:${port}`));

// never outlive the load-test tool that started us
if (parentPid) {
  setInterval(() => {
    try { process.kill(parentPid, 0); } catch (e) { console.log('socketio: parent gone, exiting'); process.exit(0); }
  }, 1000).unref();
}
