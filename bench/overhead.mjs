#!/usr/bin/env node
// Overhead of libgcstats.so on a GC-heavy workload: the same node runs
// bench/gc_heavy.js with and without the preload, interleaved (with,
// without, with, ...) so that machine noise hits both alike; it reports
// the median ratio of the times, and gcstats' own cost per GC callback as
// the library measures it (the `self` field of the exit line).
//
//   node bench/overhead.mjs [runs=11] [lib=build/libgcstats.so] [node=node]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const runs = Number(process.argv[2] || 11);
const lib = resolve(process.argv[3] || join(here, '..', 'build', 'libgcstats.so'));
const node = process.argv[4] || process.execPath;
const workload = join(here, 'gc_heavy.js');
const dir = mkdtempSync(join(tmpdir(), 'gcstats-bench-'));

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

function once(withLib, i) {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  let file;
  if (withLib) {
    file = join(dir, `gc-${i}.jsonl`);
    Object.assign(env, { LD_PRELOAD: lib, GCSTATS_FILE: file });
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, [workload], { env, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(r.stderr);
  const out = { wall, inner: JSON.parse(r.stdout).ms };
  if (withLib) {
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const exit = lines.find((l) => l.event === 'exit');
    out.callbacks = exit.self.callbacks;
    out.callbackNs = exit.self.callback_ns;
    out.fullGc = exit.num_full_gc;
    out.incGc = exit.num_inc_gc;
  }
  return out;
}

once(false, -1); // warm the page cache
const base = [];
const withLib = [];
for (let i = 0; i < runs; i++) {
  base.push(once(false, i));
  withLib.push(once(true, i));
}
const wallRatio = median(withLib.map((w, i) => w.wall / base[i].wall));
const innerRatio = median(withLib.map((w, i) => w.inner / base[i].inner));
const perCallback = median(withLib.map((w) => w.callbackNs / w.callbacks));
const callbacks = median(withLib.map((w) => w.callbacks));
rmSync(dir, { recursive: true, force: true });

console.log(`node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, ${runs} interleaved pairs`);
console.log(`median wall time without: ${median(base.map((b) => b.wall)).toFixed(0)} ms, with: ${median(withLib.map((w) => w.wall)).toFixed(0)} ms`);
console.log(`median ratio with/without, whole process: ${wallRatio.toFixed(3)}`);
console.log(`median ratio with/without, workload only: ${innerRatio.toFixed(3)}`);
console.log(`GC callbacks per run: ${callbacks} (full GCs ${median(withLib.map((w) => w.fullGc))}, other GCs ${median(withLib.map((w) => w.incGc))})`);
console.log(`gcstats' own time per GC callback: ${perCallback.toFixed(0)} ns (median over runs)`);
console.log(`target: ratio at most 1.02 -> ${wallRatio <= 1.02 ? 'met' : 'NOT met'}`);
