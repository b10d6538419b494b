// A server with a large live heap and steady request churn, for
// bench/probe.mjs: what a full GC costs grows with the live heap, so this
// is where the probe's extra full GCs cost the most.
//
// First it builds LIVE_MB (default 600) of small objects that stay alive
// (a user table: chunks of plain objects, each with a string, a double
// and a small array, as parsed JSON records are), then it serves a fixed
// number of requests, RATE a second (default 4000) for DURATION seconds
// (default 45): the same work in every run, so that CPU seconds compare
// directly. If the machine falls behind, the phase runs longer, with the
// same work. Only the serving is measured (bench/probe/measure.js,
// loaded with --require and BENCH_PHASE=manual), and only after WARMUP
// seconds of it (default 0): the building's last full GCs are long, and
// a probe whose wait grows with the last pause does not start asking
// until well after them, so a phase that starts at once measures that
// start-up rather than a long-running server. The warm-up serves at the
// same rate; its requests are not part of the phase's fixed work.
//
// REQUESTS=http (default): an HTTP server on 127.0.0.1 and a keep-alive
// client in the same process, so that the event loop waits in epoll as a
// server's does (gcstats looks at its probe there) and both ends' work is
// in the measured CPU time. REQUESTS=loop: the same handler called from a
// timer, without sockets.
//
// Each request reads a record of the live table, builds a JSON response
// of ~500 bytes, and keeps a session record for 2 to 6 s, so that some
// garbage reaches the old generation and V8 runs full GCs of its own now
// and then, as in a real server.
'use strict';
const http = require('node:http');
const v8 = require('node:v8');

const LIVE_MB = Number(process.env.LIVE_MB || 600);
const RATE = Number(process.env.RATE || 4000);
const DURATION_S = Number(process.env.DURATION || 45);
const WARMUP_S = Number(process.env.WARMUP || 0);
const REQUESTS = process.env.REQUESTS || 'http';
const phase = globalThis.benchPhase;
if (!phase) throw new Error('load bench/probe/measure.js with --require and BENCH_PHASE=manual');

// The live table. Chunks of 65,536 records, so that no backing store is
// huge and the heap is measured between chunks: grows until V8's used
// heap reaches LIVE_MB, whatever the object layout of this node version.
const CHUNK = 65536;
const table = [];
const buildStarted = process.hrtime.bigint();
let records = 0;
while (v8.getHeapStatistics().used_heap_size < LIVE_MB * 1048576) {
  const chunk = new Array(CHUNK);
  for (let i = 0; i < CHUNK; i++, records++) {
    chunk[i] = { id: records, name: 'user' + records, score: records / 3, tags: [records & 7, records & 15] };
  }
  table.push(chunk);
}
// No gc() here: an explicit full GC's long atomic pause would lengthen
// gcstats' first wait (the probe's pause budget), which a real server's
// start-up does not do.
const buildS = Number(process.hrtime.bigint() - buildStarted) / 1e9;
const liveBytes = v8.getHeapStatistics().used_heap_size;

const sessions = new Map();
let served = 0;
globalThis.benchWork = 0;   // requests served, for bench/sampler/toggle.js
function handle(path) {
  const n = Number(path.slice(7));        // "/items/N"
  const chunk = table[n % table.length];
  const user = chunk[(n * 7919) % CHUNK];
  const now = Date.now();
  const body = JSON.stringify({ n, user: { id: user.id, name: user.name, score: user.score, tags: user.tags },
    items: Array.from({ length: 12 }, (_, k) => ({ k, v: k * n, label: 'item-' + k })) });
  sessions.set(n, { expires: now + 2000 + ((n * 7919) % 4000), user: user.name, items: JSON.parse(body).items.slice(0, 6) });
  if (++served % 64 === 0) {
    // The Map keeps insertion order, close enough to expiry order.
    for (const [k, v] of sessions) {
      if (v.expires > now + 4000) break;
      if (v.expires <= now) sessions.delete(k);
    }
  }
  globalThis.benchWork = served;
  return body;
}

const total = Math.round(RATE * (WARMUP_S + DURATION_S));
let issued = 0, done = 0, doneAtBegin = 0, t0 = 0;
// How many requests are due by now: the fixed total, spread evenly.
const due = () => Math.min(total, Math.floor(Number(process.hrtime.bigint() - t0) / 1e9 * RATE));

function start() {
  t0 = process.hrtime.bigint();
  setTimeout(() => { doneAtBegin = done; phase.begin(); }, WARMUP_S * 1000);
}

function finish(close) {
  phase.end({ workload: 'server', requests: REQUESTS, liveMb: Math.round(liveBytes / 1048576), records, buildS,
    rate: RATE, warmupS: WARMUP_S, durationS: DURATION_S, served: done - doneAtBegin,
    lagS: Number(process.hrtime.bigint() - t0) / 1e9 - WARMUP_S - DURATION_S });
  close();
  process.exit(0);
}

if (REQUESTS === 'loop') {
  start();
  const timer = setInterval(() => {
    for (const d = due(); done < d; done++) handle(`/items/${done}`);
    if (done === total) finish(() => clearInterval(timer));
  }, 10);
} else if (REQUESTS === 'http') {
  const server = http.createServer((req, res) => {
    const body = handle(req.url);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const port = server.address().port;
    let inFlight = 0;
    const send = () => {
      inFlight++;
      http.get({ host: '127.0.0.1', port, path: `/items/${issued++}`, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          inFlight--;
          if (++done === total) finish(() => { clearInterval(timer); agent.destroy(); server.close(); });
        });
      }).on('error', (e) => { console.error(e); process.exit(1); });
    };
    start();
    // At most 256 in flight: a client that falls behind catches up at
    // its own pace instead of queueing the whole backlog at once.
    const timer = setInterval(() => { for (const d = due(); issued < d && inFlight < 256;) send(); }, 5);
  });
} else {
  throw new Error(`REQUESTS must be http or loop, not ${REQUESTS}`);
}
