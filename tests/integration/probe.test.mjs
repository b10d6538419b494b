// The probe: when V8 runs no full GC for GCSTATS_PROBE seconds and the
// heap has moved, gcstats asks V8 for one (Isolate::MeasureMemory of no
// context, eager) at the loop's poll. A quiet leaking process, which V8
// leaves without a full GC for the whole run, is sampled and judged; with
// GCSTATS_PROBE=0 nothing is asked. (Giving up after unanswered requests
// is covered by the unit tests: no V8 here leaves a request unanswered.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtures, runNodeWithLines, runNodeUntil, byEvent } from './harness.mjs';

// The tests that count probed GCs lift the CPU budget (GCSTATS_PROBE_BUDGET,
// 1% by default, 100% here) so that the wait is GCSTATS_PROBE's: with the
// default, a quiet process is asked only every ~10 s. The budget's own
// effect is the unit tests' (test_probe).
const FAST = { GCSTATS_PROBE: '1', GCSTATS_PROBE_BUDGET: '100' };
const quiet = (...args) => ['--expose-gc', join(fixtures, 'quiet_leak.js'), ...args];
const answered = (lines, isolate) =>
  byEvent(lines, 'stats').filter((l) => l.isolate === isolate && l.probe === true);
// Full GCs before the fixture's own closing gc() calls.
const unforced = (lines, isolate) =>
  byEvent(lines, 'stats').filter((l) => l.isolate === isolate && !l.forced);

test('a quiet leak is sampled through the probe and reported', async () => {
  // Runs until the leak is reported from probed samples, and five were answered.
  const judged = (lines) => unforced(lines, 1).some((l) => l.probe && l.verdict.state !== 'unknown');
  const res = await runNodeUntil(quiet('307200', 'signal'),
    (lines) => answered(lines, 1).length >= 5 && byEvent(lines, 'leak').length > 0 && judged(lines),
    { env: { ...FAST, GCSTATS_LEAK_MIN_SPAN: '5' } });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(byEvent(res.lines, 'start')[0].settings.probe_s, 1);
  const probed = answered(res.lines, 1);
  // Waits of 0.5 to 1 s: at most one probed GC per half second of the
  // process's whole life (measured from outside, so a slow run only
  // loosens it): more would mean the wait is not respected.
  assert.ok(probed.length >= 5, `${probed.length} probed full GCs`);
  assert.ok(probed.length <= res.ms / 500 + 1, `${probed.length} probed full GCs in ${res.ms} ms`);
  const exit = byEvent(res.lines, 'exit')[0];
  // Every answered request was made (one may still be pending at exit).
  assert.ok(exit.self.probes >= probed.length, `${exit.self.probes} requests, ${probed.length} answered`);
  // What the probe cost by its own measure (the process CPU of the cycles
  // it asked for, beyond the application's): on the probed stats lines
  // only, summed in the exit line, and some CPU after five full GCs of a
  // process that uses next to none.
  const stats = byEvent(res.lines, 'stats').filter((l) => l.isolate === 1);
  assert.ok(stats.every((l) => Number.isInteger(l.probe_cpu_ns) && (l.probe || l.probe_cpu_ns === 0)),
    stats.map((l) => `${l.probe}:${l.probe_cpu_ns}`).join(' '));
  assert.equal(exit.self.probe_cpu_ns, stats.reduce((a, l) => a + l.probe_cpu_ns, 0));
  assert.ok(exit.self.probe_cpu_ns > 0, `${exit.self.probe_cpu_ns} ns`);
  assert.equal(byEvent(res.lines, 'error').length, 0);
  // The leak is found from the probed samples alone (V8 runs no full GC of
  // its own here): reported as the heap's, growing. Its rate is not
  // compared with the fixture's: on Node 22-26 V8 frees ~0.5 MB of
  // start-up memory a few GCs in, and the first report of so short a run
  // was measured at half the true rate on Node 26. Rate accuracy is the
  // verdict test's (forced GCs) and bench/detect's (60 s runs).
  const leak = byEvent(res.lines, 'leak')[0];
  assert.equal(leak.memory, 'heap');
  assert.ok(leak.rate_bytes_per_s > 0, `rate ${leak.rate_bytes_per_s}`);
  assert.ok(judged(res.lines), 'a probed sample was judged');
});

test('GCSTATS_PROBE=0: nothing is asked', async () => {
  const res = await runNodeWithLines(quiet('102400', '6000'), { env: { GCSTATS_PROBE: '0' } });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(byEvent(res.lines, 'start')[0].settings.probe_s, 0);
  assert.equal(byEvent(res.lines, 'start')[0].probing, false);
  assert.equal(answered(res.lines, 1).length, 0);
  assert.equal(byEvent(res.lines, 'exit')[0].self.probes, 0);
  assert.equal(byEvent(res.lines, 'exit')[0].self.probe_cpu_ns, 0);
});

test('the default: probed full GCs, at waits of 2.5 s or more', async () => {
  // Runs until the first probed full GC, and for 8 s at least, so that the
  // upper bound below has a span to mean something over.
  const probedIn = (lines) => unforced(lines, 1).filter((l) => l.probe);
  const res = await runNodeUntil(quiet('102400', 'signal'), (lines, ms) => probedIn(lines).length >= 1 && ms >= 8000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(byEvent(res.lines, 'start')[0].settings.probe_s, 5);
  // At most one per 2.5 s of the process's whole life (measured from
  // outside, so a slow run only loosens it): GCSTATS_PROBE=1's pace would
  // break it.
  const probed = probedIn(res.lines);
  assert.ok(probed.length <= res.ms / 2500 + 1, `${probed.length} probed full GCs in ${res.ms} ms`);
});

test('with incremental marking off V8 answers with atomic full GCs', async () => {
  const res = await runNodeUntil(['--no-incremental-marking', '--trace-gc', ...quiet('102400', 'signal')],
    (lines) => answered(lines, 1).length >= 3, { env: FAST });
  assert.equal(res.code, 0, res.stderr);
  const probed = answered(res.lines, 1);
  assert.ok(probed.length >= 3, `${probed.length} probed full GCs`);
  // --trace-gc names the reason: the measurement gcstats asked for. The
  // fixture's closing gc() may answer a pending request itself ("testing"):
  // only the unforced probed GCs must be measurements.
  const measured = res.stdout.split('\n').filter((l) => /Mark-(Compact|sweep|Sweep).*measure memory/.test(l));
  const probedByV8 = probed.filter((l) => !l.forced);
  assert.ok(measured.length >= probedByV8.length, `${measured.length} "measure memory" GCs in --trace-gc for ${probedByV8.length}`);
  assert.equal(byEvent(res.lines, 'error').length, 0);
});

test('a Worker is probed on its own thread', async () => {
  const res = await runNodeUntil(quiet('102400', 'signal', 'worker'), (lines) => answered(lines, 2).length >= 3,
    { env: FAST });
  assert.equal(res.code, 0, res.stderr);
  const probed = answered(res.lines, 2);
  assert.ok(probed.length >= 3, `${probed.length} probed full GCs in the Worker`);
  assert.equal(byEvent(res.lines, 'start').find((l) => l.isolate === 2).probing, true);
  const end = byEvent(res.lines, 'end').find((l) => l.isolate === 2);
  assert.ok(end.self.probes >= probed.length, `${end.self.probes} requests, ${probed.length} answered`);
});

// In an isolate whose heap limit is under 64 MiB the probe never asks
// (GCS_PROBE_MIN_HEAP_LIMIT in src/probe.h: V8 collects often there by
// itself, and the probe's cycles made node's deadlock at a Worker's end,
// nodejs/node#54918, far likelier); the start line says so.
test('a Worker with a small heap limit is never probed', async () => {
  const res = await runNodeWithLines(quiet('102400', '6000', 'worker', '8'), { env: FAST });
  assert.equal(res.code, 0, res.stderr);
  const starts = byEvent(res.lines, 'start');
  assert.equal(starts.find((l) => l.isolate === 1).probing, true);
  assert.equal(starts.find((l) => l.isolate === 2).probing, false);
  assert.equal(answered(res.lines, 2).length, 0);
  assert.equal(byEvent(res.lines, 'end').find((l) => l.isolate === 2).self.probes, 0);
});
