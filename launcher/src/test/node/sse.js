// Reads a Switchboard SSE stream with the eventsource npm client and prints one JSON line per message.
// env: URL (full /v1/sse URL with ticket and channels), LAST_EVENT_ID (optional: resume position),
//      STOP_AFTER (optional: close after this many publication events).
const EventSource = require('eventsource');

const headers = {};
if (process.env.LAST_EVENT_ID) headers['Last-Event-ID'] = process.env.LAST_EVENT_ID;
const es = new EventSource(process.env.URL, { headers });
const stopAfter = Number(process.env.STOP_AFTER || 0);
let events = 0;

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
es.onopen = () => out({ event: 'open' });
es.onmessage = (m) => {
  const data = JSON.parse(m.data);
  out({ event: 'message', type: data.type, lastEventId: m.lastEventId, data });
  if (data.type === 'event' && data.offset) {
    events++;
    if (stopAfter && events >= stopAfter) {
      es.close();
      out({ event: 'closed' });
      process.exit(0);
    }
  }
};
es.onerror = (e) => {
  out({ event: 'error', status: e && e.status, message: e && e.message });
  // a ticket is single-use: the client gets a new one rather than letting EventSource retry the same URL
  es.close();
  process.exit(0);
};
