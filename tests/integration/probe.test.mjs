// The probe: when V8 runs no full GC for GCSTATS_PROBE seconds and the
// heap has moved, gcstats asks V8 for one (Isolate::MemoryPressureNotification,
// moderate) at the loop's poll. A quiet leaking process, which V8 leaves
// without a full GC for the whole run, is sampled and judged; with
// GCSTATS_PROBE=0 nothing is asked; when V8 does not answer (incremental
// marking off) gcstats stops asking and says so once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtures, runNodeWithLines, byEvent } from './harness.mjs';

const quiet = (...args) => ['--expose-gc', join(fixtures, 'quiet_leak.js'), ...args];
const answered = (lines, isolate) =>
  byEvent(lines, 'stats').filter((l) => l.isolate === isolate && l.probe === true);
// Full GCs before the fixture's own closing gc() calls.
const unforced = (lines, isolate) =>
  byEvent(lines, 'stats').filter((l) => l.isolate === isolate && !l.forced);

test('a quiet leak is sampled through the probe and reported', async () => {
  const res = await runNodeWithLines(quiet('102400', '14000'),
    { env: { GCSTATS_PROBE: '1', GCSTATS_LEAK_MIN_SPAN: '5' } });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(byEvent(res.lines, 'start')[0].settings.probe_s, 1);
  const probed = answered(res.lines, 1);
  // A request at most every second, each answered by the next full GC.
  assert.ok(probed.length >= 5, `${probed.length} probed full GCs`);
  assert.equal(unforced(res.lines, 1).length, probed.length, 'every unforced full GC here was asked for');
  const exit = byEvent(res.lines, 'exit')[0];
  assert.ok(exit.self.probes >= probed.length && exit.self.probes <= probed.length + 1,
    `${exit.self.probes} requests, ${probed.length} answered`);
  assert.equal(byEvent(res.lines, 'error').length, 0);
  const leak = byEvent(res.lines, 'leak')[0];
  assert.ok(leak, 'a leak line');
  assert.equal(leak.memory, 'heap');
  const { heapRate } = JSON.parse(res.stdout);
  assert.ok(Math.abs(leak.rate_bytes_per_s - heapRate) / heapRate < 0.25, `rate ${leak.rate_bytes_per_s} vs ${heapRate}`);
});

test('GCSTATS_PROBE=0: nothing is asked', async () => {
  const res = await runNodeWithLines(quiet('102400', '6000'), { env: { GCSTATS_PROBE: '0' } });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(byEvent(res.lines, 'start')[0].settings.probe_s, 0);
  assert.equal(answered(res.lines, 1).length, 0);
  assert.equal(byEvent(res.lines, 'exit')[0].self.probes, 0);
});

test('the default is a full GC at least every 5 s', async () => {
  const res = await runNodeWithLines(quiet('102400', '12000'));
  assert.equal(res.code, 0, res.stderr);
  assert.equal(byEvent(res.lines, 'start')[0].settings.probe_s, 5);
  const probed = answered(res.lines, 1);
  assert.ok(probed.length >= 1 && probed.length <= 3, `${probed.length} probed full GCs in 12 s`);
});

test('V8 does not answer: three requests, one error line, then quiet', async () => {
  const res = await runNodeWithLines(['--no-incremental-marking', ...quiet('102400', '8000')],
    { env: { GCSTATS_PROBE: '1' } });
  assert.equal(res.code, 0, res.stderr);
  const errors = byEvent(res.lines, 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].reason, /no full GC after 3 requests.*asks no more/);
  assert.equal(byEvent(res.lines, 'exit')[0].self.probes, 3);
  assert.equal(answered(res.lines, 1).length, 0);
});

test('a Worker is probed on its own thread', async () => {
  const res = await runNodeWithLines(quiet('102400', '8000', 'worker'), { env: { GCSTATS_PROBE: '1' } });
  assert.equal(res.code, 0, res.stderr);
  const probed = answered(res.lines, 2);
  assert.ok(probed.length >= 3, `${probed.length} probed full GCs in the Worker`);
  const end = byEvent(res.lines, 'end').find((l) => l.isolate === 2);
  assert.ok(end.self.probes >= probed.length && end.self.probes <= probed.length + 1);
});
