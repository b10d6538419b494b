// Memory outside the V8 heap: mappings counted by owner and call site.
// A native addon built for the test maps memory and never unmaps it: its
// bytes must appear under its own name, exactly, its function must top the
// sites line, and the verdict must name mapped memory while the heap is
// flat. A Buffer leak must show in external memory and RSS; with jemalloc
// preloaded, its arenas must be counted as "malloc".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { fixtures, runNodeWithLines, runNodeUntil, byEvent } from './harness.mjs';

const mapper = process.env.GCSTATS_MAPPER;
const addon = 'gcs_test_mapper.node';
const MiB = 1 << 20;
const jemalloc = ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/lib/x86_64-linux-gnu/libjemalloc.so.2'].find(existsSync);

test('the addon was built against the installed node headers', () => {
  assert.ok(mapper && existsSync(mapper), `GCSTATS_MAPPER=${mapper}: node_api.h was not found at configure time`);
});

test('an addon that maps and never unmaps: named, exact, and judged a leak', async () => {
  const res = await runNodeWithLines(['--expose-gc', join(fixtures, 'map_leak.js'), '32'], {
    env: { GCSTATS_MAPPER: mapper, GCSTATS_SITES: '1', GCSTATS_LEAK_MIN_SPAN: '3', GCSTATS_INTERVAL: '0' },
  });
  assert.equal(res.code, 0, res.stderr);
  const { held, protectedBytes, rate } = JSON.parse(res.stdout);
  assert.equal(held, 32 * MiB);
  assert.equal(protectedBytes, 16 * MiB);

  const stats = byEvent(res.lines, 'stats').filter((l) => l.forced);
  const mine = (l) => l.mapped.owners[addon] ?? { reserved: 0, committed: 0, peak_committed: 0 };
  // One forced GC after each step, then after protectHalf, then after release.
  assert.equal(stats.length, 34);
  const leakPhase = stats.slice(0, 32).map((l) => mine(l).committed);
  leakPhase.forEach((bytes, i) => assert.equal(bytes, (i + 1) * MiB, `after step ${i + 1}`));
  const afterProtect = mine(stats[32]);
  assert.equal(afterProtect.reserved, 32 * MiB);
  assert.equal(afterProtect.committed, 16 * MiB);
  const afterRelease = mine(stats[33]);
  assert.equal(afterRelease.reserved, 0);
  assert.equal(afterRelease.committed, 0);
  assert.equal(afterRelease.peak_committed, 32 * MiB);
  // Nothing of the addon's is counted as V8's.
  for (const l of stats) assert.ok(l.mapped.complete);

  // The sites line: the addon's function on top (by resident bytes), by
  // name and object.
  const sites = byEvent(res.lines, 'sites');
  assert.ok(sites.length >= 3, 'a sites line every second');
  const biggest = sites.reduce((a, b) => (mine(b).committed > mine(a).committed ? b : a));
  const top = biggest.sites[0];
  assert.equal(top.owner, addon);
  assert.equal(top.object, addon);
  assert.equal(top.function, 'mapper_leak_pages');
  assert.equal(top.committed, mine(biggest).committed);
  assert.equal(top.resident, top.committed, 'the addon touched every page it mapped');
  assert.match(top.stack[0], /^mapper_leak_pages\+0x[0-9a-f]+ \(gcs_test_mapper\.node\)$/);

  // The verdict: mapped memory, this addon, at the rate it mapped.
  const leaks = byEvent(res.lines, 'leak');
  assert.ok(leaks.length >= 1, 'a leak line');
  assert.deepEqual([...new Set(leaks.map((l) => l.memory))], ['mapped']);
  assert.equal(leaks[0].owner, addon);
  assert.match(leaks[0].reason, /mapped outside the V8 heap \(most of it by gcs_test_mapper\.node\)/);
  assert.ok(Math.abs(leaks[0].rate_bytes_per_s - rate) / rate < 0.25, `rate ${leaks[0].rate_bytes_per_s} vs ${rate}`);
  assert.equal(leaks[0].seconds_to_limit, null);
  const duringLeak = stats.find((l) => Date.parse(l.ts) >= Date.parse(leaks[0].ts));
  assert.equal(duringLeak.verdict.state, 'leak');
  assert.equal(duringLeak.verdict.memory, 'mapped');
  assert.notEqual(duringLeak.trend.heap.state, 'leak');
});

// The GC epilogue reads the mapped totals without waiting for the book's
// mutex. Threads that map without pause, two more of them than cores, are
// often preempted holding that mutex: every forced GC's line must still
// carry the totals. (The single sequence count that preceded the two
// copies in src/memmap.c lost them in 4 to 17 of 400 such lines on 2 cores.)
test('mapped totals in every stats line while other threads map and unmap', async () => {
  const threads = Math.max(4, (os.availableParallelism?.() ?? os.cpus().length) + 2);
  const res = await runNodeWithLines(['--expose-gc', join(fixtures, 'map_churn.js'), '600', String(threads)], {
    env: { GCSTATS_MAPPER: mapper },
  });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).gcs, 600);
  const forced = byEvent(res.lines, 'stats').filter((l) => l.forced && l.isolate === 1);
  const dropped = res.lines.at(-1)?.dropped;
  assert.equal(forced.length, 600, `${forced.length} forced lines of 600 (${dropped} lines dropped)`);
  const without = forced.filter((l) => l.mapped === null);
  assert.equal(without.length, 0, `${without.length} of 600 lines without mapped totals`);
});

test('V8 heap pages are counted as v8_heap, the code range as v8_code', async () => {
  const res = await runNodeWithLines(['--expose-gc', '-e', `
    const keep = []; for (let i = 0; i < 40; i++) keep.push(new Array(250000).fill(i));
    global.gc(); setTimeout(() => console.log(keep.length), 100);`], { env: { GCSTATS_INTERVAL: '0' } });
  assert.equal(res.code, 0, res.stderr);
  const last = byEvent(res.lines, 'stats').at(-1);
  const { v8_heap: heap, v8_code: code } = last.mapped.owners;
  // ~80 MB of arrays: the pages V8 committed for its heap hold them.
  assert.ok(heap.committed >= last.heap.used, `v8_heap ${heap.committed} < used ${last.heap.used}`);
  assert.ok(heap.committed <= last.heap.total * 1.5 + 8 * MiB, `v8_heap ${heap.committed} vs total ${last.heap.total}`);
  assert.ok(code.reserved >= 128 * MiB, `code range ${code.reserved}`);
});

// V8 reserves its code range before gcstats attaches to the isolate, when
// a mapping's site is its caller alone, which the code range shares with
// V8's heap reservations (v8::base::OS::Allocate): at attach it moves to a
// v8_code site of its own, so that sites lines show it as code. (A sites
// line shows the top 8 sites by resident bytes: in this small script the
// code range's is among them.)
test('sites lines: the code range reserved before attach is a v8_code site', async () => {
  const res = await runNodeUntil(['-e', 'process.on("SIGUSR2", () => process.exit(0)); setInterval(() => {}, 1000);'],
    (lines) => byEvent(lines, 'sites').length > 0, { env: { GCSTATS_SITES: '1' } });
  assert.equal(res.code, 0, res.stderr);
  const sites = byEvent(res.lines, 'sites')[0].sites;
  const code = sites.filter((s) => s.owner === 'v8_code').reduce((sum, s) => sum + s.reserved, 0);
  assert.ok(code >= 128 * MiB, JSON.stringify(sites.map((s) => [s.owner, s.reserved, s.function])));
});

// From the second forced sample (the first is start-up's) to the one with
// the most external memory (the fixture frees its Buffers at the end).
function externalSpan(lines) {
  const stats = byEvent(lines, 'stats').filter((l) => l.forced);
  if (stats.length < 2) return { growth: 0 };
  const first = stats[1];
  const last = stats.reduce((a, b) => (b.heap.external > a.heap.external ? b : a));
  return { first, last, growth: last.heap.external - first.heap.external };
}

// The Buffer fixtures run until enough has happened, however slow the
// machine: the growth asserted below, and the lines the test reads.
test('a Buffer leak: external memory and RSS grow, the verdict names external memory', async () => {
  const res = await runNodeUntil(['--expose-gc', join(fixtures, 'leak_then_stop.js'), 'buffer', 'Infinity', 'signal'],
    (lines) => externalSpan(lines).growth > 12 * MiB && byEvent(lines, 'leak').length > 0,
    { env: { GCSTATS_LEAK_MIN_SPAN: '3' } });
  assert.equal(res.code, 0, res.stderr);
  const { first, last, growth: externalGrowth } = externalSpan(res.lines);
  assert.ok(externalGrowth > 12 * MiB, `external grew ${externalGrowth}`);
  // Resident memory outside V8's heap: V8 may give back heap pages in
  // between (the whole RSS once grew 7 MB against 13.6 MB of Buffers, on
  // a loaded machine).
  const outside = (l) => l.rss - l.heap.physical;
  assert.ok(outside(last) - outside(first) > 0.8 * externalGrowth,
    `rss grew ${last.rss - first.rss} (outside the heap ${outside(last) - outside(first)}), external ${externalGrowth}`);
  const leaks = byEvent(res.lines, 'leak');
  assert.ok(leaks.length >= 1);
  assert.equal(leaks[0].memory, 'external');
  assert.equal(byEvent(res.lines, 'exit')[0].verdict.memory, 'external');
});

test('with jemalloc preloaded: Buffers land in its arenas, counted as malloc', { skip: !jemalloc && 'libjemalloc2 is not installed' }, async () => {
  const res = await runNodeUntil(['--expose-gc', join(fixtures, 'leak_then_stop.js'), 'buffer', 'Infinity', 'signal'],
    (lines) => externalSpan(lines).growth > 8 * MiB && byEvent(lines, 'sites').length > 0,
    { env: { LD_PRELOAD: `${jemalloc} ${process.env.GCSTATS_LIB}`, GCSTATS_SITES: '1', GCSTATS_INTERVAL: '0' } });
  assert.equal(res.code, 0, res.stderr);
  const { first, last, growth: externalGrowth } = externalSpan(res.lines);
  const mallocGrowth = last.mapped.owners.malloc.committed - first.mapped.owners.malloc.committed;
  assert.ok(externalGrowth > 8 * MiB, `external grew ${externalGrowth}`);
  // jemalloc reuses extents it retained earlier and grows in chunks: the
  // arenas follow the Buffers, not byte for byte.
  assert.ok(mallocGrowth >= 0.5 * externalGrowth, `malloc mappings grew ${mallocGrowth}, external ${externalGrowth}`);
  assert.ok(mallocGrowth <= 2 * externalGrowth + 16 * MiB, `malloc mappings grew ${mallocGrowth}, external ${externalGrowth}`);
  // The heap pages are still V8's, not the allocator's.
  assert.ok(last.mapped.owners.v8_heap.committed >= last.heap.used);
  const sites = byEvent(res.lines, 'sites').at(-1);
  const malloc = sites.sites.find((s) => s.owner === 'malloc');
  assert.ok(malloc, 'a malloc site');
  // jemalloc's own frames fill the unwound stack: the site names it.
  assert.equal(malloc.object, 'libjemalloc.so.2');
});

// libunwind is not linked: the writer thread loads it once the process
// has lived ~100 ms past its first attach (src/stackwalk.c), and never
// where mappings are not counted. Waits for the load, not for a time
// (the second run's second only bounds how long it looks). After the
// load, the first run maps 64 MiB of large objects (V8 maps each one
// apart) and runs until a sites line shows them with a walked stack, more
// than the caller alone.
const lookForLibunwind = `
const { readFileSync } = require('fs');
const loaded = () => readFileSync('/proc/self/maps', 'utf8').includes('/libunwind.so.8');
const until = Date.now() + Number(process.argv[1]);
const keep = [];
const look = () => {
  if (!loaded() && Date.now() <= until) return setTimeout(look, 20);
  const was = loaded();
  const report = () => console.log(JSON.stringify({ loaded: was, kept: keep.length }));
  if (!was || process.argv[2] !== 'map') return report();
  for (let i = 0; i < 64; i++) keep.push(new Array(131072).fill(i));
  const wait = setInterval(() => {}, 1000);
  process.on('SIGUSR2', () => { clearInterval(wait); report(); });
};
look();`;

const walkedV8Site = (lines) => byEvent(lines, 'sites').some((l) =>
  l.sites.some((s) => s.owner === 'v8_heap' && s.stack.length >= 2 && s.committed >= 32 * MiB));

test('node loads libunwind after its attach, then walks stacks; not with GCSTATS_MAPS=0', async () => {
  const on = await runNodeUntil(['-e', lookForLibunwind, '60000', 'map'], walkedV8Site, { env: { GCSTATS_SITES: '1' } });
  assert.equal(on.code, 0, on.stderr);
  assert.deepEqual(JSON.parse(on.stdout), { loaded: true, kept: 64 });
  assert.equal(byEvent(on.lines, 'error').length, 0);
  assert.ok(walkedV8Site(on.lines));
  const off = await runNodeWithLines(['-e', lookForLibunwind, '1000'], { env: { GCSTATS_MAPS: '0' } });
  assert.equal(off.code, 0, off.stderr);
  assert.deepEqual(JSON.parse(off.stdout), { loaded: false, kept: 0 });
});
