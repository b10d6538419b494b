// What differs between V8 versions, checked on the node under test: the
// HeapStatistics layout (larger in V8 14), incremental marking callbacks
// (twice per cycle on V8 10), and a V8 gcstats does not know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, parseLines, runNodeWithLines, traceCounts, byEvent } from './harness.mjs';

// Prints rows of gcstats' table of V8 facts (tests/helpers/v8facts_dump.c).
const dump = process.env.GCSTATS_V8FACTS_DUMP;
if (!dump) throw new Error('GCSTATS_V8FACTS_DUMP must name the built v8facts_dump');

test('heap statistics agree with v8.getHeapStatistics()', async () => {
  const res = await runNodeWithLines(['--expose-gc', join(fixtures, 'heap_check.js')]);
  assert.equal(res.code, 0, res.stderr);
  const js = JSON.parse(res.stdout);
  const forced = byEvent(res.lines, 'stats').filter((l) => l.forced);
  assert.equal(forced.length, 1);
  const h = forced[0].heap;
  assert.equal(h.limit, js.heap_size_limit);
  assert.equal(h.native_contexts, js.number_of_native_contexts);
  assert.equal(h.detached_contexts, js.number_of_detached_contexts);
  // The JavaScript call runs a little after the GC: allow for what it allocated.
  const near = (a, b, slack) => Math.abs(a - b) <= slack;
  assert.ok(near(h.used, js.used_heap_size, 1 << 20), `used ${h.used} vs ${js.used_heap_size}`);
  assert.ok(near(h.total, js.total_heap_size, 4 << 20), `total ${h.total} vs ${js.total_heap_size}`);
  assert.ok(near(h.external, js.external_memory, 1 << 20), `external ${h.external} vs ${js.external_memory}`);
  assert.ok(h.used < h.total && h.total < h.limit);
  // V8 14 (Node 26) adds total_allocated_bytes; older ones do not have it.
  if (js.total_allocated_bytes !== undefined) {
    assert.ok(h.total_allocated > 0 && h.total_allocated <= js.total_allocated_bytes, `total_allocated ${h.total_allocated} vs ${js.total_allocated_bytes}`);
    assert.ok(js.total_allocated_bytes - h.total_allocated < 4 << 20);
  } else {
    assert.equal(h.total_allocated, null);
  }
});

test('incremental marking counts cycles, not callbacks', async () => {
  const res = await runNodeWithLines(['--trace-gc', join(fixtures, 'alloc_sync.js')]);
  assert.equal(res.code, 0, res.stderr);
  // --trace-gc says of a mark-compact that ends an incremental cycle
  // "(+ N ms in M steps since start of marking ...)".
  const cycles = res.stdout.split('\n').filter((l) => /Mark-(Compact|sweep)/.test(l) && !/Minor/.test(l) && /since start of marking/.test(l)).length;
  const exit = byEvent(res.lines, 'exit')[0];
  assert.ok(cycles > 0, 'the fixture should finish incremental cycles');
  // A cycle may still be open at exit: it is counted when it starts.
  assert.ok(exit.gc.incremental.count === cycles || exit.gc.incremental.count === cycles + 1,
    `incremental ${exit.gc.incremental.count} vs ${cycles} cycles in --trace-gc`);
  assert.ok(exit.gc.incremental.count <= exit.gc.mark_compact.count + 1);

  // How many callbacks a cycle takes is a fact of the table's row for
  // this V8 (2 on V8 10: start and finalize; 1 later). The callbacks of
  // the other kinds are one prologue and one epilogue per count, so the
  // rest of self.callbacks are the incremental ones. The exit line lacks
  // the very last epilogue (counted after it publishes), and a cycle open
  // at exit may have had only its first callback: allow one cycle less.
  const start = byEvent(res.lines, 'start')[0];
  const row = JSON.parse(execFileSync(dump, ['row', start.v8.split('.')[0]], { encoding: 'utf8' }));
  const perCycle = row.incremental_callbacks_per_cycle;
  const g = exit.gc;
  const others = g.scavenge.count + g.minor_ms.count + g.mark_compact.count + g.weak_callbacks.count;
  const incrementalCallbacks = exit.self.callbacks - 2 * others;
  const most = 2 * perCycle * g.incremental.count;
  assert.ok(incrementalCallbacks <= most && incrementalCallbacks >= most - 2 * perCycle,
    `${incrementalCallbacks} incremental callbacks (prologues and epilogues) for ${g.incremental.count} cycles; the table says ${perCycle} per cycle`);
});

// The majors just outside gcstats' table (src/v8layout.c), from the
// table itself, so that a new row needs no change here.
const known = JSON.parse(execFileSync(dump, ['range'], { encoding: 'utf8' }));

for (const assumed of [`${known.max + 1}.0`, `${known.min - 1}.8`]) {
  test(`an unknown V8 (${assumed}): one error line, then nothing, and the application runs`, async () => {
    const res = await run(nodeBin, [join(fixtures, 'alloc_sync.js')], { env: baseEnv({ GCSTATS_ASSUME_V8: assumed }) });
    assert.equal(res.code, 0);
    assert.match(res.stdout, /sync done/);
    const lines = parseLines(res.stderr);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].event, 'error');
    assert.match(lines[0].reason, new RegExp(`V8 ${assumed.replace('.', '\\.')} .*does not know`));
  });
}

// GCSTATS_ASSUME_V8 can close the gate for a test, never open it: a major
// the table knows is not believed, so that it could not make gcstats read
// a real V8 it does not know with a known major's layout.
test('an assumed V8 the table knows is not believed', async () => {
  const real = JSON.parse(execFileSync(nodeBin, ['-p', 'JSON.stringify(process.versions.v8)'],
    { env: baseEnv({}, { preload: false }), encoding: 'utf8' }));
  const realMajor = Number(real.split('.')[0]);
  const otherKnown = realMajor === known.min ? known.max : known.min;
  const res = await runNodeWithLines(['--expose-gc', join(fixtures, 'heap_check.js')],
    { env: { GCSTATS_ASSUME_V8: `${otherKnown}.0` } });
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(byEvent(res.lines, 'error'), []);
  assert.equal(byEvent(res.lines, 'start')[0].v8, real);
});

test('a leaking script shows its post-compaction heap growing', async () => {
  const res = await runNodeWithLines(['--expose-gc', join(fixtures, 'leak.js')]);
  assert.equal(res.code, 0, res.stderr);
  const forced = byEvent(res.lines, 'stats').filter((l) => l.forced);
  assert.equal(forced.length, 12);
  const bases = forced.map((l) => l.current_base);
  for (let i = 1; i < bases.length; i++) assert.ok(bases[i] > bases[i - 1], `bases ${bases}`);
  const last = forced[forced.length - 1];
  assert.ok(last.usage_trend > 0);
  assert.ok(last.max.bytes - last.min.bytes > 12e6, `grew ${last.max.bytes - last.min.bytes} bytes`);
  assert.ok(last.estimated_base > forced[0].current_base);
});
