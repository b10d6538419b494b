// Workers started and ended one after another are all reported, each with
// its own isolate number and a final line. There are more of them than
// gcstats has isolate slots (128): every slot is reused, so the library's
// memory (all of it static) does not grow with the number of Workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtures, runNodeWithLines, byEvent } from './harness.mjs';

test('150 Workers in sequence', async () => {
  const N = 150;
  const res = await runNodeWithLines([join(fixtures, 'many_workers.js'), String(N)], { timeoutMs: 240000 });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`workers: ${N}`));
  const starts = byEvent(res.lines, 'start').filter((l) => l.thread === 'worker');
  const ends = byEvent(res.lines, 'end');
  assert.equal(starts.length, N);
  assert.equal(ends.length, N);
  assert.deepEqual(starts.map((l) => l.isolate), [...Array(N).keys()].map((i) => i + 2));
  assert.deepEqual(ends.map((l) => l.isolate), starts.map((l) => l.isolate));
  for (const end of ends) {
    assert.ok(Number.isInteger(end.num_full_gc) && Number.isInteger(end.num_inc_gc), JSON.stringify(end));
    assert.ok(Number.isInteger(end.gc.scavenge.count) && end.self.callbacks >= 0);
    assert.equal(typeof end.verdict.state, 'string');
  }
  // Each Worker ends before the next starts: its end line comes before the next start.
  const order = res.lines.filter((l) => l.event === 'end' || (l.event === 'start' && l.thread === 'worker')).map((l) => `${l.event}:${l.isolate}`);
  for (let i = 0; i < N; i++) {
    assert.equal(order[2 * i], `start:${i + 2}`);
    assert.equal(order[2 * i + 1], `end:${i + 2}`);
  }
  assert.equal(byEvent(res.lines, 'exit').length, 1);
});
