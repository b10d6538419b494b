// Loaded with --require by bench/probe.mjs into every workload: measures
// the workload's measured phase from inside the process and prints one
// JSON line, {"bench": {...}}, on stderr when the phase ends.
//
// The phase: by default from this module's loading (before the workload's
// own code), or BENCH_SKIP seconds after it, until BENCH_DURATION seconds
// after it, so that the detection workloads' closing gc() calls (their
// true-rate measurement) stay out.
// A workload that builds something first (bench/probe/server.js) sets
// BENCH_PHASE=manual and calls globalThis.benchPhase.begin() when it is
// ready and .end(extra) when its fixed work is done, so that building a
// large heap does not count.
//
// In the phase: the CPU time of the whole process (process.cpuUsage():
// getrusage(RUSAGE_SELF), every thread, gcstats' writer thread included)
// and the main isolate's GCs by type, from V8's GC callbacks through
// v8.GCProfiler. The same counter runs with and without the preload, so
// its own small cost falls on both sides alike, and no clocks have to be
// matched between a --trace-gc log and the phase.
'use strict';
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
  const v8 = require('node:v8');
  let profiler = null, cpu0 = null, wall0 = 0, begunAt = 0, ended = false;

  const begin = () => {
    if (cpu0) return;
    // v8.GCProfiler: Node 18.15 and later; without it only the CPU time is measured.
    if (v8.GCProfiler) { profiler = new v8.GCProfiler(); profiler.start(); }
    begunAt = Date.now();
    wall0 = process.hrtime.bigint();
    cpu0 = process.cpuUsage();
  };

  const end = (extra = {}) => {
    if (!cpu0 || ended) return;
    ended = true;
    const cpu = process.cpuUsage(cpu0);
    const wallS = Number(process.hrtime.bigint() - wall0) / 1e9;
    const endedAt = Date.now();
    const gcs = {}, gcMs = {};
    if (profiler) {
      for (const s of profiler.stop().statistics) {
        gcs[s.gcType] = (gcs[s.gcType] || 0) + 1;
        gcMs[s.gcType] = (gcMs[s.gcType] || 0) + s.cost / 1000;
      }
    }
    const total = process.cpuUsage();
    process.stderr.write(JSON.stringify({ bench: {
      begunAt, endedAt, wallS,
      cpuS: (cpu.user + cpu.system) / 1e6, userS: cpu.user / 1e6, sysS: cpu.system / 1e6,
      totalCpuS: (total.user + total.system) / 1e6,
      gcs: profiler ? gcs : null, gcMs: profiler ? gcMs : null,
      maxRssKb: process.resourceUsage().maxRSS,
      ...extra,
    } }) + '\n');
  };

  globalThis.benchPhase = { begin, end };
  if (process.env.BENCH_PHASE !== 'manual') {
    // BENCH_SKIP seconds in (0: at once), so that a run can be measured
    // after its start-up, when the probe's rate alone bounds it.
    const skipMs = Number(process.env.BENCH_SKIP || 0) * 1000;
    if (skipMs > 0) setTimeout(begin, skipMs).unref(); else begin();
    // Ends just before the detection workload's own end timer (set a few
    // ms after this one, for the same duration) runs its closing gc() calls.
    const ms = Number(process.env.BENCH_DURATION || process.env.DURATION || 60) * 1000 - 50;
    setTimeout(() => end(), Math.max(0, ms)).unref();
  }
}
