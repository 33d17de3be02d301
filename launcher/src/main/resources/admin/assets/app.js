// Switchboard admin dashboard: the cluster page. Data comes from /admin/api/* with the session cookie (HttpOnly:
// this script never sees it); every value is written with textContent, never as HTML.
'use strict';

const REFRESH_MS = 2000;

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

function mib(bytes) {
  return (bytes / 1048576).toFixed(0) + ' MiB';
}

function number(v) {
  return v === undefined || v === null ? '–' : String(v);
}

function render(cluster) {
  const body = document.querySelector('#nodes tbody');
  body.replaceChildren();
  let clients = 0;
  for (const n of cluster.nodes) {
    const row = document.createElement('tr');
    row.dataset.node = n.node;
    cell(row, n.node + (n.node === cluster.self ? ' (this node)' : ''));
    if (!n.reachable) {
      cell(row, 'not answering: ' + (n.error || ''), 'bad').colSpan = 9;
      body.appendChild(row);
      continue;
    }
    clients += n.connections || 0;
    cell(row, n.host);
    cell(row, n.services.join(', '));
    cell(row, duration(n.uptimeSeconds), 'num');
    cell(row, number(n.connections), 'num');
    cell(row, number(n.publishes), 'num');
    cell(row, number(n.deliveries), 'num');
    cell(row, mib(n.heap.usedBytes) + ' / ' + mib(n.heap.maxBytes), 'num');
    cell(row, n.eventBus, n.eventBus === 'ok' ? 'ok' : 'bad');
    cell(row, n.redis, n.redis === 'ok' || n.redis === 'not used' ? 'ok' : 'bad');
    body.appendChild(row);
  }
  const count = cluster.nodes.length;
  document.getElementById('summary').textContent = (cluster.clustered ? 'Cluster ' + cluster.clusterName : 'Single JVM')
    + ': ' + count + ' node' + (count === 1 ? '' : 's') + ', ' + clients + ' client connection' + (clients === 1 ? '' : 's') + '.';
  document.getElementById('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
}

async function refresh() {
  try {
    const r = await fetch('/admin/api/cluster', { credentials: 'same-origin' });
    if (r.status === 401) { location.reload(); return; }
    const body = await r.json();
    if (!r.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + r.status);
    render(body);
  } catch (e) {
    document.getElementById('summary').textContent = 'Could not load the cluster: ' + e.message;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

document.getElementById('logout').addEventListener('click', async () => {
  await fetch('/admin/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-switchboard-admin': '1' } });
  location.reload();
});

refresh();
