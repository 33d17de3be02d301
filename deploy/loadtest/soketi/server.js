// Soketi 1.6.1 baseline for the Switchboard load test: the Pusher-protocol server many Pusher users self-host.
// One process, its defaults (local adapter, array app manager, no metrics), one app from APP_ID/APP_KEY/APP_SECRET.
// Soketi's peer discovery (node-discover: UDP hellos, broadcast by default) is pointed at loopback only.
// GET http://127.0.0.1:STATS_PORT/stats answers {connections, heapUsed, rss, …} after a forced GC (node --expose-gc).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const { Server } = require('@soketi/soketi');
const version = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules/@soketi/soketi/package.json'), 'utf8')).version;
const uws = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules/uWebSockets.js/package.json'), 'utf8'));

const env = (name, def) => process.env[name] || def;
const port = Number(env('PORT', 6001));
const statsPort = Number(env('STATS_PORT', 6002));
const appId = env('APP_ID', 'app-id');
const parentPid = Number(env('PARENT_PID', 0));

const server = new Server({
  'host': '127.0.0.1',
  'port': port,
  'metrics.host': '127.0.0.1',
  'metrics.port': Number(env('METRICS_PORT', 9601)),
  'cluster.hostname': '127.0.0.1',
  'cluster.port': Number(env('CLUSTER_PORT', 11002)),
  'cluster.broadcast': '127.255.255.255',
  'cluster.unicast': '127.0.0.1',
  'appManager.array.apps.0.id': appId,
  'appManager.array.apps.0.key': env('APP_KEY', 'app-key'),
  'appManager.array.apps.0.secret': env('APP_SECRET', 'app-secret'),
});

server.start(() => {
  http.createServer((req, res) => {
    if (req.url !== '/stats') {
      res.writeHead(404);
      res.end();
      return;
    }
    if (global.gc) { global.gc(); global.gc(); }
    const m = process.memoryUsage();
    server.adapter.getSocketsCount(appId, true).then((connections) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ connections, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
        rss: m.rss, version, uws: `${uws.name}@${uws.version}`, node: process.version }));
    });
  }).listen(statsPort, '127.0.0.1', () => console.log(`soketi-baseline: stats on 127.0.0.1:${statsPort}`));
});

// never outlive the load-test tool that started us
if (parentPid) {
  setInterval(() => {
    try { process.kill(parentPid, 0); } catch (e) { console.log('soketi-baseline: parent gone, exiting'); process.exit(0); }
  }, 1000).unref();
}
