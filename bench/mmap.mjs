#!/usr/bin/env node
// The cost of counting mappings.
//
// 1. Per call: the test addon (build/tests/gcs_test_mapper.node) times
//    mmap+munmap pairs of 64 KiB three ways in one process: through the
//    PLT as any code calls them (interposed under the preload), through
//    libc's own functions looked up in libc.so.6 (never interposed), and
//    as raw system calls. Interposed minus direct is what gcstats adds to
//    a pair; without the preload the same difference must be ~0.
// 2. Whole process: bench/mmap_heavy.js (a large object mapped and
//    unmapped by V8 ~4,000 times) without the preload, with it, and with
//    it but GCSTATS_MAPS=0, interleaved; the median ratios of the times.
//
//   node bench/mmap.mjs [runs=11] [lib=build/libgcstats.so] [node=node]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const runs = Number(process.argv[2] || 11);
const lib = resolve(process.argv[3] || join(here, '..', 'build', 'libgcstats.so'));
const node = process.argv[4] || process.execPath;
const addon = resolve(join(dirname(lib), 'tests', 'gcs_test_mapper.node'));
if (!existsSync(addon)) throw new Error(`${addon} is missing: build the tests first (meson compile -C build)`);

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

function env(extra) {
  const e = { ...process.env, GCSTATS_FILE: '/dev/null', GCSTATS_INTERVAL: '0' };
  delete e.LD_PRELOAD;
  return { ...e, ...extra };
}

function runJson(args, extra) {
  const r = spawnSync(node, args, { env: env(extra), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

// 1. Per pair: the three ways in turns of 2,000 pairs, in one process, so
// that the machine's noise (an mmap+munmap pair costs microseconds, most of
// it the kernel's TLB work) falls on all three alike.
const pairsScript = `
  const m = require(${JSON.stringify(addon)});
  const t = [[], [], []];
  for (let round = 0; round < 60; round++)
    for (const how of [0, 2, 1]) t[how].push(m.pairs(2000, 65536, how));
  const med = (xs) => { xs.sort((a, b) => a - b); return xs[xs.length >> 1]; };
  console.log(JSON.stringify({ plt: med(t[0]), libc: med(t[2]), raw: med(t[1]) }));`;
const withLib = [], without = [], notCounting = [];
for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
  without.push(runJson(['-e', pairsScript], {}));
  withLib.push(runJson(['-e', pairsScript], { LD_PRELOAD: lib }));
  notCounting.push(runJson(['-e', pairsScript], { LD_PRELOAD: lib, GCSTATS_MAPS: '0' }));
}
const added = (rs) => median(rs.map((r) => r.plt - r.libc));
console.log(`mmap+munmap pair of 64 KiB, ns (median over ${withLib.length} processes of the median of 60 turns x 2,000 pairs):`);
console.log(`  without gcstats:             through the PLT ${median(without.map((r) => r.plt)).toFixed(0)}, libc direct ${median(without.map((r) => r.libc)).toFixed(0)}, raw syscalls ${median(without.map((r) => r.raw)).toFixed(0)}  (PLT - libc: ${added(without).toFixed(0)}, the method's zero)`);
console.log(`  with gcstats:                through the PLT ${median(withLib.map((r) => r.plt)).toFixed(0)}, libc direct ${median(withLib.map((r) => r.libc)).toFixed(0)}  (interposed - direct: +${added(withLib).toFixed(0)} ns per pair)`);
console.log(`  with gcstats, GCSTATS_MAPS=0: through the PLT ${median(notCounting.map((r) => r.plt)).toFixed(0)}, libc direct ${median(notCounting.map((r) => r.libc)).toFixed(0)}  (+${added(notCounting).toFixed(0)} ns: the interposers without the counting)`);

// 2. Whole process.
const workload = join(here, 'mmap_heavy.js');
runJson([workload], {});   // warm the page cache
const base = [], counted = [], uncounted = [];
let arrays = 0;
for (let i = 0; i < runs; i++) {
  const b = runJson([workload], {});
  base.push(b.ms);
  arrays = b.arrays;
  counted.push(runJson([workload], { LD_PRELOAD: lib }).ms);
  uncounted.push(runJson([workload], { LD_PRELOAD: lib, GCSTATS_MAPS: '0' }).ms);
}
const ratio = (xs) => median(xs.map((x, i) => x / base[i]));
console.log(`mmap_heavy.js (${arrays} large arrays, ${runs} interleaved runs; median time without gcstats ${median(base).toFixed(0)} ms):`);
console.log(`  with gcstats                ratio ${ratio(counted).toFixed(3)}`);
console.log(`  with gcstats, GCSTATS_MAPS=0 ratio ${ratio(uncounted).toFixed(3)}`);
