// Shared by the detection workloads: a steady background of request-like
// garbage, a clock, and the end-of-run report of the true leak rate.
'use strict';
const DURATION_MS = Number(process.env.DURATION || 60) * 1000;
const started = Date.now();

// ~2000 "requests" a second, like a JSON API server: each builds a few KB
// of garbage at once, and keeps a session record in a TTL cache for 2-6 s.
// Session records outlive young-generation GCs and die in the old
// generation, as a real server's sessions, responses in flight and cache
// entries do, so that full GCs come every few seconds; the total stays
// flat at about 10 MB (2000/s x 4 s x ~1.2 KB).
function steadyLoad({ perTick = 20 } = {}) {
  let n = 0;
  const sessions = new Map();
  const timer = setInterval(() => {
    const now = Date.now();
    for (let i = 0; i < perTick; i++) {
      const req = { id: n++, path: `/items/${n % 997}`, headers: { a: 'x'.repeat(64), b: String(n) } };
      const body = JSON.stringify({ req, items: Array.from({ length: 20 }, (_, k) => ({ k, v: k * n })) });
      const parsed = JSON.parse(body);
      sessions.set(n, { expires: now + 2000 + ((n * 7919) % 4000), user: 'u' + (n % 5000), items: parsed.items.slice(0, 15) });
    }
    // expire: the Map keeps insertion order, close enough to expiry order
    for (const [k, v] of sessions) {
      if (v.expires > now + 4000) break;
      if (v.expires <= now) sessions.delete(k);
    }
  }, 10);
  return timer;
}

// Retains `bytesPerSec` (approximately) of heap objects, in 10 steps a second.
function heapLeak(store, bytesPerSec) {
  const perStep = Math.max(1, Math.round(bytesPerSec / 10 / 120));   // ~120 bytes per object
  return setInterval(() => {
    for (let i = 0; i < perStep; i++) store.push({ a: i, b: 'leak', c: [i, i + 1] });   // culprit: run.mjs expects the top site here
  }, 100);
}

// The true rate: what the leak store holds, measured by V8 after full GCs
// at the end (with --expose-gc), divided by how long it grew.
function reportTrueRate(store, growMs, extra = {}) {
  const v8 = require('node:v8');
  global.gc();
  const withLeak = v8.getHeapStatistics();
  const held = store.splice(0);
  const count = held.length;
  held.length = 0;
  global.gc();
  const without = v8.getHeapStatistics();
  const heapBytes = withLeak.used_heap_size - without.used_heap_size;
  const externalBytes = withLeak.external_memory - without.external_memory;
  console.log(JSON.stringify({ end: true, count, growMs, heapRate: heapBytes / (growMs / 1000),
    externalRate: externalBytes / (growMs / 1000), ...extra }));
  return count;
}

function atEnd(fn) {
  setTimeout(fn, Math.max(0, DURATION_MS - (Date.now() - started)));
}

module.exports = { DURATION_MS, steadyLoad, heapLeak, reportTrueRate, atEnd, started };
