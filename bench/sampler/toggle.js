// Loaded with --require after bench/probe/measure.js by bench/sampler.mjs:
// once the workload begins its measured phase, alternates phases with V8's
// sampling heap profiler on and off in the same process (through the
// inspector, HeapProfiler.startSampling: the sampler gcstats starts, at
// the same interval, with stacks of up to 128 frames where gcstats asks
// for 32), and prints the CPU time of each phase on stderr at the end,
// {"sampler": {...}}. The workload counts its units of work in
// globalThis.benchWork (bench/sampler/alloc.js its slices, which it runs
// flat out; bench/probe/server.js its requests), and phases are compared
// by CPU time per unit: a phase that a start or stop made shorter, or that
// caught up with requests the one before left waiting, weighs right.
//
// Why in one process: between runs of the same configuration this
// machine's CPU time varies by a third (docs/design.md, "The probe"),
// and a 600 MB heap's state after its building (compacted or not) moves
// a run by 20% either way. In one process both halves share the heap.
// The order is on, off, off, on, repeated (ABBA), so that a drift over
// the run (a server warming up) cancels within each group of four. The
// start and stop themselves (stopSampling serializes the profile) are left
// out of the phases: they are what a profile read costs, not sampling.
'use strict';
const inspector = require('node:inspector');

const PHASE_MS = Number(process.env.SAMPLER_PHASE_MS || 5000);
const INTERVAL = Number(process.env.SAMPLER_INTERVAL || 524288);
const phase = globalThis.benchPhase;
if (!phase) throw new Error('load bench/probe/measure.js first, with BENCH_PHASE=manual');
const work = () => {
  if (typeof globalThis.benchWork !== 'number') throw new Error('the workload counts no work in globalThis.benchWork');
  return globalThis.benchWork;
};

const session = new inspector.Session();
session.connect();
const on = [], off = [], onWork = [], offWork = [];
let i = 0, sampling = false, cpu0 = null, work0 = 0, timer = null;

const close = () => {
  if (cpu0 === null) return;
  const c = process.cpuUsage(cpu0);
  (sampling ? on : off).push((c.user + c.system) / 1e3);
  (sampling ? onWork : offWork).push(work() - work0);
  cpu0 = null;
};
const open = () => {
  const want = i % 4 === 0 || i % 4 === 3;
  i++;
  const started = () => { sampling = want; work0 = work(); cpu0 = process.cpuUsage(); };
  if (want === sampling) return started();
  if (want) session.post('HeapProfiler.startSampling', { samplingInterval: INTERVAL }, started);
  else session.post('HeapProfiler.stopSampling', started);
};
const flip = () => { close(); open(); };

const begin = phase.begin, end = phase.end;
phase.begin = () => { begin(); open(); timer = setInterval(flip, PHASE_MS); };
phase.end = (extra = {}) => {
  clearInterval(timer);
  // The phase under way is cut short: it is left out.
  // Whole groups only (two phases on, two off): a run may end in the
  // middle of one.
  const whole = 2 * Math.floor(Math.min(on.length, off.length) / 2);
  on.length = off.length = onWork.length = offWork.length = whole;
  const per = (ms, w, k) => ms[k] / w[k];
  const groups = [];
  for (let g = 0; 2 * g + 1 < whole; g++)
    groups.push((per(on, onWork, 2 * g) + per(on, onWork, 2 * g + 1)) / (per(off, offWork, 2 * g) + per(off, offWork, 2 * g + 1)));
  process.stderr.write(JSON.stringify({ sampler: { intervalBytes: INTERVAL, phaseMs: PHASE_MS,
    onMs: on.map(Math.round), offMs: off.map(Math.round), onWork, offWork, groupRatios: groups } }) + '\n');
  end(extra);
};
