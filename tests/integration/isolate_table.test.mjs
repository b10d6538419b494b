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
  assert.match(res.stdout, /ready: 130\nended: 130/, res.stderr.slice(-2000));
  const errors = byEvent(res.lines, 'error');
  assert.equal(errors.length, 1, JSON.stringify(errors.map((e) => e.reason)));
  assert.match(errors[0].reason, /isolates/);
  // While all 130 are alive (until the first Worker ends: the fixture
  // lets them go only once every one has attached and said so), exactly
  // the table's worth is watched: main and 127 Workers. Once Workers end
  // and free slots, a Worker that was refused may still attach on its way
  // out (seen on Node 18): that is not counted against the table.
  const firstEnd = res.lines.findIndex((l) => l.event === 'end');
  assert.ok(firstEnd > 0, 'end lines');
  const startsWhileFull = byEvent(res.lines.slice(0, firstEnd), 'start');
  assert.equal(startsWhileFull.length, SLOTS, `${startsWhileFull.length} start lines before the first end line`);
  assert.equal(startsWhileFull.filter((l) => l.thread === 'main').length, 1);
  assert.equal(startsWhileFull.find((l) => l.thread === 'main').isolate, 1);
  const starts = byEvent(res.lines, 'start');
  assert.equal(new Set(starts.map((l) => l.isolate)).size, starts.length, 'an isolate number given twice');
  assert.equal(new Set(starts.map((l) => l.v8_isolate)).size, starts.length, 'an isolate started twice');
  assert.equal(byEvent(res.lines, 'exit').length, 1);
});
