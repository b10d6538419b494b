// The sampler's worst case, for bench/sampler.mjs: nothing but allocation,
// 20 frames deep (each sample walks the stack), into a ring that keeps
// the objects alive long enough that the compiler cannot drop them, over
// a live heap of LIVE_MB (default 100). It allocates a few GB a second;
// a server allocates ~150 MB a second (bench/probe/server.js at 4,000
// requests a second scavenges ~9 times a second).
'use strict';
const v8 = require('node:v8');

const LIVE_MB = Number(process.env.LIVE_MB || 100);
const DURATION_S = Number(process.env.DURATION || 40);
const DEPTH = 20;
const phase = globalThis.benchPhase;
if (!phase) throw new Error('load bench/probe/measure.js with --require and BENCH_PHASE=manual');

const live = [];
while (v8.getHeapStatistics().used_heap_size < LIVE_MB * 1048576) {
  const chunk = new Array(4096);
  for (let k = 0; k < chunk.length; k++) chunk[k] = { id: k, name: 'live' + k, tags: [k, k + 1] };
  live.push(chunk);
}
const ring = new Array(4096);
let at = 0;
function leaf(n) {
  for (let k = 0; k < n; k++) ring[at = (at + 1) & 4095] = { k, s: 'v' + k, a: [k, k, k] };
  return ring[at];
}
function down(d, n) { return d === 0 ? leaf(n) : down(d - 1, n); }
globalThis.benchWork = 0;

phase.begin();
const until = Date.now() + DURATION_S * 1000;
(function slice() {
  // 10 ms slices, so that the timers that flip the sampler run.
  const stop = Date.now() + 10;
  while (Date.now() < stop) { down(DEPTH, 2000); globalThis.benchWork++; }
  if (Date.now() < until) setImmediate(slice);
  else phase.end({ workload: 'alloc', liveMb: LIVE_MB });
})();
