// Load helper (not a test): opens N PubNub subscribe long-polls against the gateway and keeps them held.
// Env: PORT, KEY, TOKEN, N, CHANNEL. Prints {"event":"held","n":N} once every poll has been sent after its handshake.
const http = require('http');
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const n = +process.env.N;
const get = (path) => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port: +process.env.PORT, path, agent }, (res) => {
    let body = '';
    res.on('data', (d) => { body += d; });
    res.on('end', () => resolve(body));
  }).on('error', reject);
});
(async () => {
  let sent = 0;
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, async (_, k) => {
      const base = `/v2/subscribe/${process.env.KEY}/${encodeURIComponent(process.env.CHANNEL)}/0?uuid=hold-${i + k}&auth=${process.env.TOKEN}`;
      const hs = JSON.parse(await get(base + '&tt=0'));
      get(base + `&tt=${hs.t.t}&tr=1`).then(() => out({ event: 'answered' }), () => {});
      sent++;
    }));
  }
  out({ event: 'held', n: sent });
})().catch((e) => out({ event: 'error', message: String(e) }));
