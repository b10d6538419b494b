// More isolates alive at once than gcstats has slots (128): the ones
// beyond are not watched, one error line says the table is full, and the
// application runs and exits as it would. (Workers that come and go one
// after another reuse slots: that is workers.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtures, runNodeWithLines, byEvent } from './harness.mjs';

const SLOTS = 128;

test('130 Workers alive at once: one error line, 128 isolates reported', async () => {
  // ~11 s on 2 cores (Worker start-up), ~1 GB: the timeout only catches a hang.
  const res = await runNodeWithLines([join(fixtures, 'live_workers.js'), '130', '4'], { timeoutMs: 180000 });
  assert.equal(res.signal, null);
  assert.equal(res.code, 4, res.stderr.slice(-500));
  assert.match(res.stdout, /ready: 130\nended: 130/);
  const errors = byEvent(res.lines, 'error');
  assert.equal(errors.length, 1, JSON.stringify(errors.map((e) => e.reason)));
  assert.match(errors[0].reason, /isolates/);
  const starts = byEvent(res.lines, 'start');
  assert.equal(starts.length, SLOTS, `${starts.length} start lines`);
  assert.equal(new Set(starts.map((l) => l.isolate)).size, SLOTS, 'an isolate number given twice');
  assert.equal(starts.filter((l) => l.thread === 'main').length, 1);
  assert.equal(starts.find((l) => l.thread === 'main').isolate, 1);
  assert.equal(byEvent(res.lines, 'exit').length, 1);
});
