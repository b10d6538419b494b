// process.exit() while gcstats has work pending in V8 must end the
// process with the application's own status: gcstats calls nothing in V8
// at exit (the isolate may be half torn down by then). Both cases below
// ended in SIGSEGV before that was so: a probe falling due while the main
// thread was busy (every run), and 16 busy Workers at exit (~50-100% of runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtures, runNodeWithLines, byEvent } from './harness.mjs';

const busyExit = (code, ms, workers) => [join(fixtures, 'busy_exit.js'), String(code), String(ms), String(workers)];

function assertOwnExit(res, code) {
  assert.equal(res.signal, null, `killed by ${res.signal}: ${res.stderr.slice(-500)}`);
  assert.equal(res.code, code, res.stderr.slice(-500));
  assert.equal(byEvent(res.lines, 'exit').length, 1, 'one exit line');
  assert.deepEqual(byEvent(res.lines, 'error'), []);
}

test('process.exit(0) from a busy main thread while a probe is due (3 runs)', async () => {
  // GCSTATS_PROBE=1: the probe is due after 0.5-1 s (its CPU budget lifted
  // so that nothing spaces it out), the exit comes at 1.5 s.
  for (let i = 0; i < 3; i++) {
    const res = await runNodeWithLines(busyExit(0, 1500, 0), { env: { GCSTATS_PROBE: '1', GCSTATS_PROBE_BUDGET: '100' }, timeoutMs: 60000 });
    assertOwnExit(res, 0);
    assert.equal(byEvent(res.lines, 'start').length, 1);
  }
});

test('process.exit(9) with 16 busy Workers', async () => {
  // Node itself takes 7-12 s here to stop 16 Workers that never return
  // to their loops on 2 cores; the timeout only catches a hang.
  const res = await runNodeWithLines(busyExit(9, 1000, 16), { timeoutMs: 120000 });
  assertOwnExit(res, 9);
});
