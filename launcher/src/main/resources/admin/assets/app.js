// Switchboard admin dashboard. Data comes from /admin/api/* with the session cookie (HttpOnly: this script never
// sees it) and from the gateway over Switchboard's own protocol (native.js). Every value is written with
// textContent, never as HTML.
'use strict';

const REFRESH_MS = 2000;
const $ = id => document.getElementById(id);

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
  if (d > 0) return d + 'd ' + h + 'h';
  if (h > 0) return h + 'h ' + m + 'm';
  return m + 'm ' + (seconds % 60) + 's';
}

const mib = bytes => (bytes / 1048576).toFixed(0) + ' MiB';
const number = v => (v === undefined || v === null ? '–' : String(v));

/** A POST to the admin API: the header proves the request comes from this page (CSRF). */
async function post(path, body) {
  const r = await fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'x-switchboard-admin': '1', 'content-type': 'application/json' },
    body: JSON.stringify(body || {}),
  });
  if (r.status === 401) { location.reload(); throw new Error('logged out'); }
  const answer = await r.json();
  if (!r.ok) throw new Error(answer.error ? answer.error.code + ': ' + answer.error.message : 'HTTP ' + r.status);
  return answer;
}

// --- pages ---------------------------------------------------------------------------------------------------

function show() {
  const [page, query] = (location.hash.replace(/^#\//, '') || 'cluster').split('?');
  for (const s of document.querySelectorAll('section.page')) s.hidden = s.id !== 'page-' + page;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.dataset.page === page);
  if (page === 'channel') loadActive();
  if (page === 'channel' && query) {
    const name = new URLSearchParams(query).get('name');
    if (name && name !== current) openChannel(name);
  }
}
window.addEventListener('hashchange', show);

// --- cluster -------------------------------------------------------------------------------------------------

function renderCluster(cluster) {
  const body = document.querySelector('#nodes tbody');
  body.replaceChildren();
  let clients = 0;
  for (const n of cluster.nodes) {
    const row = document.createElement('tr');
    row.dataset.node = n.node;
    cell(row, n.node + (n.node === cluster.self ? ' (this node)' : ''));
    if (!n.reachable) {
      cell(row, 'not answering: ' + (n.error || ''), 'bad').colSpan = 10;
      body.appendChild(row);
      continue;
    }
    clients += n.connections || 0;
    cell(row, n.host);
    cell(row, n.services.join(', '));
    cell(row, duration(n.uptimeSeconds), 'num');
    cell(row, number(n.connections), 'num');
    cell(row, number(n.subscriptions), 'num');
    cell(row, number(n.publishes), 'num');
    cell(row, number(n.deliveries), 'num');
    cell(row, (n.heap.usedBytes / 1048576).toFixed(0) + ' / ' + mib(n.heap.maxBytes), 'num');
    cell(row, n.eventBus, n.eventBus === 'ok' ? 'ok' : 'bad');
    cell(row, n.redis, n.redis === 'ok' || n.redis === 'not used' ? 'ok' : 'bad');
    body.appendChild(row);
  }
  const count = cluster.nodes.length;
  $('summary').textContent = (cluster.clustered ? 'Cluster ' + cluster.clusterName : 'Single JVM')
    + ': ' + count + ' node' + (count === 1 ? '' : 's') + ', ' + clients + ' client connection' + (clients === 1 ? '' : 's') + '.';
  $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
}

async function refreshCluster() {
  try {
    const r = await fetch('/admin/api/cluster', { credentials: 'same-origin' });
    if (r.status === 401) { location.reload(); return; }
    const body = await r.json();
    if (!r.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + r.status);
    renderCluster(body);
  } catch (e) {
    $('summary').textContent = 'Could not load the cluster: ' + e.message;
  } finally {
    setTimeout(refreshCluster, REFRESH_MS);
  }
}

// --- charts: the nodes' samples summed per time slot; rates are differences of the cumulative counters --------

const SVG = 'http://www.w3.org/2000/svg';

/** Sums the nodes' samples per slot: gauges as they are, counters as rates per `per` ms. */
function seriesOf(nodes, sampleMs, pick, per) {
  const slots = new Map();
  for (const n of nodes) {
    let prev = null;
    for (const s of n.samples) {
      const slot = Math.round(s.t / sampleMs);
      let v;
      if (per === 0) v = pick(s);
      else if (prev) v = Math.max(0, pick(s) - pick(prev)) * per / Math.max(1, s.t - prev.t);
      prev = s;
      if (v === undefined) continue;
      slots.set(slot, (slots.get(slot) || 0) + v);
    }
  }
  return [...slots.entries()].sort((a, b) => a[0] - b[0]).map(([slot, v]) => ({ t: slot * sampleMs, v }));
}

function drawChart(id, points, unit) {
  const svg = $(id);
  svg.replaceChildren();
  const now = Date.now(), span = 15 * 60 * 1000;
  const max = Math.max(1, ...points.map(p => p.v));
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points.map(p => ((p.t - (now - span)) / span * 300).toFixed(1) + ',' + (98 - p.v / max * 94).toFixed(1)).join(' '));
  svg.appendChild(line);
  const last = points.length ? points[points.length - 1].v : 0;
  const peak = Math.max(0, ...points.map(p => p.v));
  $(id + '-value').textContent = 'now ' + (Math.round(last * 10) / 10) + unit + ', peak ' + (Math.round(peak * 10) / 10) + unit;
}

function renderSeries(body) {
  const nodes = body.nodes, ms = body.sampleMs;
  drawChart('chart-connections', seriesOf(nodes, ms, s => s.connections, 0), '');
  drawChart('chart-publishes', seriesOf(nodes, ms, s => s.publishes, 1000), '/s');
  drawChart('chart-deliveries', seriesOf(nodes, ms, s => s.deliveries, 1000), '/s');
  drawChart('chart-slow', seriesOf(nodes, ms, s => s.slowConsumerCuts || 0, 60000), '/min');
  const totals = {};
  for (const n of nodes) {
    if (n.samples.length === 0) continue;
    const first = n.samples[0].disconnects || {}, last = n.samples[n.samples.length - 1].disconnects || {};
    for (const code of Object.keys(last)) totals[code] = (totals[code] || 0) + last[code] - (first[code] || 0);
  }
  const table = document.querySelector('#disconnects tbody');
  table.replaceChildren();
  const codes = Object.keys(totals).filter(c => totals[c] > 0).sort();
  for (const code of codes) {
    const row = table.insertRow();
    cell(row, code);
    cell(row, String(totals[code]), 'num');
  }
  if (codes.length === 0) cell(table.insertRow(), 'none', 'hint').colSpan = 2;
}

async function refreshSeries() {
  try {
    const r = await fetch('/admin/api/series', { credentials: 'same-origin' });
    if (r.ok) renderSeries(await r.json());
  } catch (e) {
    // the cluster summary reports connection problems
  } finally {
    setTimeout(refreshSeries, REFRESH_MS);
  }
}

// --- channels: the dashboard's own Switchboard connection ------------------------------------------------------

let client = null;
let current = null;

async function sbClient() {
  if (client) return client;
  const session = await (await fetch('/admin/api/session', { credentials: 'same-origin' })).json();
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  client = new SwitchboardClient(scheme + location.hostname + ':' + session.gatewayPort + session.wsPath,
    async () => (await post('/admin/api/dashboard-token')).token, onEvent, state => { $('connection').textContent = state; });
  await client.connect();
  return client;
}

function describe(f) {
  const src = f.source ? ' ' + f.source.type + ':' + f.source.id : '';
  return (f.offset !== undefined ? '#' + f.offset + ' ' : '') + f.timestamp + ' ' + f.event + src + ' ' + JSON.stringify(f.data);
}

function onEvent(f) {
  if (f.channel !== current) return;
  if (f.event && f.event.startsWith('presence.') && f.data && f.data.client === client.client) return;
  const li = document.createElement('li');
  li.textContent = describe(f);
  $('tail').prepend(li);
  if (f.event && f.event.startsWith('presence.')) loadPresence();
  if (f.offset !== undefined) $('channel-position').textContent = 'offset ' + f.offset + ', epoch ' + f.epoch;
}

async function openChannel(name) {
  let sb;
  try {
    sb = await sbClient();
  } catch (e) {
    $('channel-view').hidden = false;
    $('channel-title').textContent = name;
    $('tail-state').textContent = 'cannot reach a gateway at ' + location.hostname + ' (gateway.port): ' + e.message;
    return;
  }
  if (current && current !== name) await sb.unsubscribe(current);
  current = name;
  $('channel-name').value = name;
  $('channel-view').hidden = false;
  $('channel-title').textContent = name;
  $('tail').replaceChildren();
  $('tail-state').textContent = 'subscribing…';
  try {
    const a = await sb.subscribe(name);
    $('tail-state').textContent = 'live: new publications appear here as they happen';
    $('channel-position').textContent = a.epoch ? 'offset ' + a.offset + ', epoch ' + a.epoch : 'ephemeral channel (no history)';
  } catch (e) {
    $('tail-state').textContent = 'cannot subscribe: ' + e.message;
  }
  loadHistory();
  loadPresence();
}

async function loadHistory() {
  const params = { channel: current, limit: Number($('history-limit').value) || 50, reverse: true };
  const filter = {};
  if ($('history-tag').value.trim()) filter.tags = $('history-tag').value.trim().split(/\s+/);
  if ($('history-priority').value) filter.priority = [$('history-priority').value];
  if (Object.keys(filter).length) params.filter = filter;
  const body = document.querySelector('#history tbody');
  body.replaceChildren();
  try {
    const r = await (await sbClient()).request('history', params);
    for (const p of r.publications) {
      const row = document.createElement('tr');
      cell(row, number(p.offset), 'num');
      cell(row, p.timestamp);
      cell(row, p.event);
      cell(row, p.source ? p.source.type + ':' + p.source.id : '');
      cell(row, p.priority || '');
      cell(row, (p.tags || []).join(' '));
      cell(row, JSON.stringify(p.data));
      body.appendChild(row);
    }
    if (r.publications.length === 0) cell(body.insertRow(), 'no publications', 'hint').colSpan = 7;
  } catch (e) {
    cell(body.insertRow(), e.message, 'bad').colSpan = 7;
  }
}

async function loadPresence() {
  const body = document.querySelector('#presence tbody');
  try {
    const r = await (await sbClient()).request('presence', { channel: current });
    body.replaceChildren();
    $('presence-state').textContent = r.members.length + ' present';
    for (const m of r.members) {
      const row = document.createElement('tr');
      cell(row, m.subject);
      cell(row, m.client);
      cell(row, new Date(m.joinedAt).toLocaleTimeString()).title = m.joinedAt;
      cell(row, JSON.stringify(m.state));
      const td = cell(row, '');
      if (m.client === client.client) { td.textContent = '(this page)'; td.className = 'hint'; body.appendChild(row); continue; }
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'small';
      b.textContent = 'Disconnect';
      b.title = 'close this connection (' + m.client + ')';
      b.addEventListener('click', async () => {
        try {
          await post('/admin/api/disconnect', { connection: m.client, reason: 'disconnected by an operator' });
          b.textContent = 'disconnected';
          b.disabled = true;
        } catch (err) {
          b.textContent = 'refused: ' + err.message;
        }
      });
      td.appendChild(b);
      body.appendChild(row);
    }
  } catch (e) {
    body.replaceChildren();
    $('presence-state').textContent = e.message;
  }
}

async function loadActive() {
  const prefix = $('active-prefix').value.trim();
  const sort = $('active-sort').value;
  try {
    const r = await fetch('/admin/api/channels?prefix=' + encodeURIComponent(prefix) + '&sort=' + sort,
      { credentials: 'same-origin' });
    if (!r.ok) return;
    const body = await r.json();
    // an answer for an older prefix or ranking may arrive after a newer one: show only the current question's
    if (prefix !== $('active-prefix').value.trim() || sort !== $('active-sort').value) return;
    const list = document.querySelector('#active-list tbody');
    list.replaceChildren();
    for (const c of body.channels) {
      const row = list.insertRow();
      const a = document.createElement('a');
      a.href = '#/channel?name=' + encodeURIComponent(c.channel);
      a.textContent = c.channel;
      cell(row, '').appendChild(a);
      cell(row, String(c.subscribers), 'num');
      cell(row, c.rate === undefined ? '–' : String(c.rate), 'num');
      cell(row, String(c.nodes), 'num');
    }
    $('active-state').textContent = body.channels.length === 0 ? 'none' + (prefix ? ' starting with ' + prefix : '')
      : body.total + ' channel' + (body.total === 1 ? '' : 's') + (body.more ? ', the first ' + body.channels.length + ' shown (narrow the prefix)' : '')
        + '; rates over the last ' + body.rateSeconds + ' s';
  } catch (e) {
    $('active-state').textContent = 'could not list channels: ' + e.message;
  }
}
$('active-prefix').addEventListener('input', loadActive);
$('active-sort').addEventListener('change', loadActive);
$('active-form').addEventListener('submit', e => { e.preventDefault(); loadActive(); });
setInterval(() => { if (!$('page-channel').hidden) loadActive(); }, 5000);

$('channel-form').addEventListener('submit', e => {
  e.preventDefault();
  location.hash = '#/channel?name=' + encodeURIComponent($('channel-name').value.trim());
});

$('history-form').addEventListener('submit', e => { e.preventDefault(); loadHistory(); });

$('pending-form').addEventListener('submit', async e => {
  e.preventDefault();
  const subject = $('pending-subject').value.trim();
  const body = document.querySelector('#pending tbody');
  body.replaceChildren();
  try {
    const r = await fetch('/admin/api/pending?channel=' + encodeURIComponent(current) + '&subject=' + encodeURIComponent(subject),
      { credentials: 'same-origin' });
    const answer = await r.json();
    if (!r.ok) throw new Error(answer.error ? answer.error.code + ': ' + answer.error.message : 'HTTP ' + r.status);
    for (const p of answer.publications) {
      const row = body.insertRow();
      cell(row, number(p.offset), 'num');
      cell(row, p.timestamp);
      cell(row, p.event);
      cell(row, p.source ? p.source.type + ':' + p.source.id : '');
      cell(row, JSON.stringify(p.data));
    }
    $('pending-state').textContent = answer.publications.length + ' not acked by ' + subject;
  } catch (err) {
    $('pending-state').textContent = err.message;
  }
});

$('publish-form').addEventListener('submit', async e => {
  e.preventDefault();
  let data = $('publish-data').value;
  try { data = JSON.parse(data); } catch (ignored) { /* plain text is sent as a JSON string */ }
  const params = { channel: current, event: $('publish-event').value, data, priority: $('publish-priority').value };
  const tags = $('publish-tags').value.trim();
  if (tags) params.tags = tags.split(/\s+/);
  if ($('publish-ack').checked) params.requiresAck = true;
  try {
    const r = await (await sbClient()).request('publish', params);
    $('publish-result').textContent = 'published' + (r.offset !== undefined ? ' at offset ' + r.offset : '') + ', id ' + r.id;
  } catch (err) {
    $('publish-result').textContent = 'refused: ' + err.message;
  }
});

// --- actions (through the auth service; audited in the log) ---------------------------------------------------

function grants(text) {
  return text.trim().split(/\s+/).filter(Boolean).map(spec => {
    const eq = spec.lastIndexOf('=');
    const caps = eq > 0 ? spec.slice(eq + 1).split(',') : [];
    const known = caps.length > 0 && caps.every(c => ['subscribe', 'publish', 'presence', 'history'].includes(c));
    return known ? { channel: spec.slice(0, eq), capabilities: caps }
      : { channel: spec, capabilities: ['subscribe', 'publish', 'presence', 'history'] };
  });
}

function action(formId, outId, build) {
  $(formId).addEventListener('submit', async e => {
    e.preventDefault();
    const [path, body, show] = build();
    try {
      $(outId).textContent = show(await post(path, body));
    } catch (err) {
      $(outId).textContent = 'refused: ' + err.message;
    }
  });
}

action('token-form', 'token-out', () => ['/admin/api/auth/token',
  { subject: $('token-subject').value.trim(), grants: grants($('token-grants').value), ttl: Number($('token-ttl').value) },
  r => 'token for ' + r.subject + ', expires ' + r.expiresAt + ':\n' + r.token]);

action('key-form', 'key-out', () => {
  const channels = {};
  for (const spec of $('key-channels').value.trim().split(/\s+/).filter(Boolean)) {
    const eq = spec.indexOf('=');
    if (eq > 0) channels[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return ['/admin/api/auth/key.create', { subject: $('key-subject').value.trim(), grants: grants($('key-grants').value), channels },
    r => 'id  ' + r.id + '\nkey ' + r.key + '\n(shown once: store it now)'];
});

action('key-delete-form', 'key-delete-out', () => ['/admin/api/auth/key.delete', { id: $('key-delete-id').value.trim() },
  () => 'deleted']);

action('revoke-form', 'revoke-out', () => {
  const body = {};
  body[$('revoke-kind').value] = $('revoke-target').value.trim();
  return ['/admin/api/auth/revoke', body, () => 'revoked: matching connections close with 4003'];
});

action('disconnect-form', 'disconnect-out', () => {
  const body = { reason: $('disconnect-reason').value.trim() };
  if ($('disconnect-subject').value.trim()) body.subject = $('disconnect-subject').value.trim();
  if ($('disconnect-connection').value.trim()) body.connection = $('disconnect-connection').value.trim();
  return ['/admin/api/disconnect', body, r => 'disconnect sent to every gateway: '
    + (r.requested.connection ? 'connection ' + r.requested.connection : '')
    + (r.requested.connection && r.requested.subject ? ' of ' : '')
    + (r.requested.subject ? 'subject ' + r.requested.subject : '')];
});

$('logout').addEventListener('click', async () => {
  if (client) client.stopped = true;
  await fetch('/admin/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-switchboard-admin': '1' } });
  location.reload();
});

show();
refreshCluster();
refreshSeries();
