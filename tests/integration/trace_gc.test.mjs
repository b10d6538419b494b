// GC counts reported by gcstats equal those --trace-gc prints in the same
// run, per isolate: GCs in the synchronous top level, in ES module
// evaluation and in Workers are all seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, lib, runNodeWithLines, traceCounts, byEvent } from './harness.mjs';

// Debian's libjemalloc2: an allocator that itself calls mmap, from inside
// malloc, through the interposer.
const jemalloc = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

function finalLineOf(lines, isolate) {
  const finals = lines.filter((l) => l.isolate === isolate && (l.event === 'exit' || l.event === 'end'));
  assert.equal(finals.length, 1, `one final line for isolate ${isolate}`);
  return finals[0];
}

async function compareWithTrace(script, expectIsolates, env = {}) {
  const res = await runNodeWithLines(['--trace-gc', join(fixtures, script)], { env });
  assert.equal(res.code, 0, res.stderr);
  const trace = traceCounts(res.stdout);
  assert.deepEqual(trace.unknown, [], 'GC names this test does not know');
  const starts = byEvent(res.lines, 'start');
  assert.equal(starts.length, expectIsolates, `start lines: ${JSON.stringify(starts)}`);
  assert.deepEqual(starts.map((s) => s.isolate).sort(), [...Array(expectIsolates).keys()].map((i) => i + 1));
  let totalFull = 0;
  for (const start of starts) {
    const t = trace.get(start.v8_isolate);
    assert.ok(t, `--trace-gc printed nothing for isolate ${start.v8_isolate}`);
    const fin = finalLineOf(res.lines, start.isolate);
    const got = { scavenge: fin.gc.scavenge.count, minor_ms: fin.gc.minor_ms.count, mark_compact: fin.gc.mark_compact.count };
    assert.deepEqual(got, t, `isolate ${start.isolate} (${start.v8_isolate})`);
    assert.equal(fin.num_full_gc, t.mark_compact);
    // Every full GC produced a stats line (none dropped in a run this size).
    const stats = byEvent(res.lines, 'stats').filter((l) => l.isolate === start.isolate);
    assert.equal(stats.length, t.mark_compact);
    assert.deepEqual(stats.map((s) => s.num_full_gc), stats.map((_, i) => i + 1));
    totalFull += t.mark_compact;
  }
  assert.equal(trace.size, expectIsolates, 'every isolate that --trace-gc saw is reported');
  assert.ok(totalFull > 0, 'the fixture must cause at least one full GC');
  return res;
}

test('synchronous top level', async () => {
  const res = await compareWithTrace('alloc_sync.js', 1);
  const stats = byEvent(res.lines, 'stats');
  assert.ok(stats.length >= 2, 'the fixture causes several full GCs before the first poll');
});

test('ES module evaluation', async () => {
  await compareWithTrace('alloc_module.mjs', 1);
});

test('two Workers, each isolate on its own', async () => {
  const res = await compareWithTrace('two_workers.js', 3);
  const workerStarts = byEvent(res.lines, 'start').filter((l) => l.thread === 'worker');
  assert.equal(workerStarts.length, 2);
  assert.equal(byEvent(res.lines, 'end').length, 2);
  assert.equal(byEvent(res.lines, 'exit').length, 1);
  assert.equal(byEvent(res.lines, 'exit')[0].isolate, 1);
});

for (const order of ['jemalloc first', 'gcstats first']) {
  test(`with jemalloc preloaded too (${order})`, { skip: !existsSync(jemalloc) && 'libjemalloc2 is not installed' }, async () => {
    const preload = order === 'jemalloc first' ? `${jemalloc} ${lib}` : `${lib} ${jemalloc}`;
    await compareWithTrace('two_workers.js', 3, { LD_PRELOAD: preload });
    await compareWithTrace('alloc_sync.js', 1, { LD_PRELOAD: preload });
  });
}
