#!/usr/bin/env node
// Detection benchmark: runs each workload in bench/detect/workloads under
// libgcstats.so with its default settings, several times, and reports for
// each: false alarms, time to the first `leak` line, the estimated rate
// against the true rate (which the workload measures itself at the end),
// and, on the same post-compaction heap samples, node-memwatch's rule ("the
// heap grew at 5 full GCs in a row", the first sample counting as growth).
// For heap leaks also: when the leaking isolate's first `culprits` line came,
// and whether its top site was the leaking code. That code is the statement
// marked `// culprit` in the workload's source. A site is named by the line
// where its function starts, and a function V8 inlined is charged to its
// caller's start, so the top site is right when its url ends in that file
// and its line lies from the start of the function around the mark (the
// nearest line at or above it with `=>` or `function`) to the mark. External
// leaks get no culprits line. For the other workloads: whether V8's heap
// sampler started (any isolate's last tick, end or exit line), and whether
// any memory series was "growing" or a "leak" behind it.
//
//   node bench/detect/run.mjs [--runs N] [--leak-runs N] [--duration S] [--jobs J] [--only a,b] [--lib PATH] [--node PATH]
//                             [--set GCSTATS_X=V ...]
// --set changes one setting for every run (GCSTATS_PROBE=0 turns the probe off).
// Prints a Markdown table, and writes the raw lines to $TMPDIR/gcstats-detect-*/.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const lib = resolve(arg('lib', join(here, '..', '..', 'build', 'libgcstats.so')));
const node = arg('node', process.execPath);
const duration = Number(arg('duration', 60));
const jobs = Number(arg('jobs', 2));
const out = mkdtempSync(join(tmpdir(), 'gcstats-detect-'));
const settings = Object.fromEntries(process.argv.flatMap((a, i) =>
  process.argv[i - 1] === '--set' ? [a.split(/=(.*)/s).slice(0, 2)] : []));

function culpritSpan(file) {
  const source = readFileSync(join(here, 'workloads', file), 'utf8').split('\n');
  const mark = source.findIndex((l) => l.includes('// culprit'));
  if (mark < 0) throw new Error(`no line marked // culprit in ${file}`);
  let start = mark;
  while (start > 0 && !/=>|\bfunction\b/.test(source[start])) start--;
  return { file, from: start + 1, to: mark + 1 };
}
const heapLeak = culpritSpan('common.js');

// leak: is it one; isolate: where; rate: which true rate applies; culprit: the leaking code.
const WORKLOADS = [
  { name: 'steady', leak: false, runs: Number(arg('runs', 10)) },
  { name: 'sawtooth', leak: false, runs: Number(arg('runs', 10)) },
  { name: 'warmup', leak: false, runs: Number(arg('runs', 10)) },
  { name: 'slow_leak', leak: true, memory: 'heap', rate: 'heapRate', culprit: heapLeak, runs: Number(arg('runs', 10)) },
  { name: 'fast_leak', leak: true, memory: 'heap', rate: 'heapRate', culprit: heapLeak, runs: Number(arg('leak-runs', 3)) },
  { name: 'buffer_leak', leak: true, memory: 'external', rate: 'externalRate', runs: Number(arg('leak-runs', 3)) },
  { name: 'worker_leak', leak: true, memory: 'heap', rate: 'heapRate', culprit: heapLeak, isolate: 2, runs: Number(arg('leak-runs', 3)) },
  { name: 'leak_stops', leak: true, memory: 'heap', rate: 'heapRate', culprit: heapLeak, runs: Number(arg('leak-runs', 3)) },
  { name: 'idle_leak', leak: true, memory: 'heap', rate: 'heapRate', culprit: culpritSpan('idle_leak.js'), runs: Number(arg('leak-runs', 3)) },
];
const only = arg('only', '');
const selected = only ? WORKLOADS.filter((w) => only.split(',').includes(w.name)) : WORKLOADS;

function runOnce(w, i) {
  return new Promise((res, rej) => {
    const file = join(out, `${w.name}-${i}.jsonl`);
    const env = { ...process.env, LD_PRELOAD: lib, GCSTATS_FILE: file, DURATION: String(duration) };
    for (const k of Object.keys(env)) if (k.startsWith('GCSTATS_') && k !== 'GCSTATS_FILE') delete env[k];
    Object.assign(env, settings);
    const started = Date.now();
    const child = spawn(node, ['--expose-gc', join(here, 'workloads', `${w.name}.js`)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0) return rej(new Error(`${w.name} exited ${code}`));
      const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
      const truth = stdout.trim().split('\n').map((l) => JSON.parse(l)).find((o) => o.end) || {};
      res(analyse(w, lines, truth, started));
    });
  });
}

function memwatchRule(samples) {
  // node-memwatch: growth counted from 0, so the first sample is growth; a
  // dip resets; 5 in a row is a "leak" and starts counting again.
  let prev = 0, count = 0;
  for (const s of samples) {
    count = s.bytes > prev ? count + 1 : 0;
    prev = s.bytes;
    if (count >= 5) return s.t;
  }
  return null;
}

function analyse(w, lines, truth, started) {
  const isolate = w.isolate || 1;
  const t0 = Date.parse(lines.find((l) => l.event === 'start' && l.isolate === 1)?.ts || new Date(started).toISOString());
  // Lines from the workload's own measuring at the end (forced GCs) are not part of the run.
  const endMs = t0 + duration * 1000 - 200;
  const mine = lines.filter((l) => l.isolate === isolate && Date.parse(l.ts) <= endMs);
  const leaks = lines.filter((l) => l.event === 'leak' && Date.parse(l.ts) <= endMs);
  const stats = mine.filter((l) => l.event === 'stats');
  // memwatch looks at the heap only, whatever leaks.
  const samples = stats.map((l) => ({ t: (Date.parse(l.ts) - t0) / 1000, bytes: l.heap.used }));
  const firstLeak = leaks.find((l) => l.isolate === isolate && l.memory === w.memory);
  const lastVerdictLine = [...mine].reverse().find((l) => l.verdict);
  const firstCulprits = lines.find((l) => l.event === 'culprits' && l.isolate === isolate && Date.parse(l.ts) <= endMs);
  const top = firstCulprits?.sites[0];
  const lastSelf = new Map(lines.filter((l) => l.self).map((l) => [l.isolate, l.self]));
  const growing = new Set(lines.filter((l) => l.event === 'stats' && Date.parse(l.ts) <= endMs).flatMap((l) =>
    Object.keys(l.trend).filter((m) => ['growing', 'leak'].includes(l.trend[m].state))));
  return {
    fullGcs: stats.length,
    probed: stats.filter((l) => l.probe === true).length,
    alarms: leaks.length,
    firstLeakS: firstLeak ? (Date.parse(firstLeak.ts) - t0) / 1000 : null,
    rate: firstLeak ? firstLeak.rate_bytes_per_s : null,
    trueRate: w.rate ? truth[w.rate] : null,
    leakEnd: lines.some((l) => l.event === 'leak_end' && l.isolate === isolate && Date.parse(l.ts) <= endMs),
    finalState: lastVerdictLine?.verdict.state ?? 'none',
    memwatchS: memwatchRule(samples),
    culpritsS: firstCulprits ? (Date.parse(firstCulprits.ts) - t0) / 1000 : null,
    topSite: top ? `${top.function || '(anonymous)'} ${top.url}:${top.line}:${top.column}` : null,
    culpritRight: firstCulprits && w.culprit ? basename(top?.url ?? '') === w.culprit.file && top.line >= w.culprit.from && top.line <= w.culprit.to : null,
    samplerStarts: Math.max(0, ...[...lastSelf.values()].map((s) => s.sampler_starts)),
    growing: [...growing],
  };
}

const queue = selected.flatMap((w) => Array.from({ length: w.runs }, (_, i) => ({ w, i })));
const results = new Map(selected.map((w) => [w.name, []]));
async function worker() {
  while (queue.length) {
    const { w, i } = queue.shift();
    const r = await runOnce(w, i);
    results.get(w.name).push(r);
    process.stderr.write(`${w.name} #${i}: ${JSON.stringify(r)}\n`);
  }
}
await Promise.all(Array.from({ length: jobs }, worker));

const median = (xs) => { const s = xs.filter((x) => x != null).sort((a, b) => a - b); if (!s.length) return null; const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x, d = 0) => (x == null ? '-' : x.toFixed(d));
const spread = (xs) => (xs.length ? `${fmt(median(xs), 1)}; ${fmt(Math.min(...xs), 1)}-${fmt(Math.max(...xs), 1)}` : '-');
const settingsText = Object.keys(settings).length ? Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ') : 'default settings';
console.log(`node ${spawnVersion()}, ${duration} s runs, ${settingsText}, ${jobs} at a time; raw lines in ${out}\n`);
console.log('| workload | runs | full GCs per run (median) | of them probed | runs with a leak line | within 30 s | first leak line, s (median; min-max) | rate error (median; max) | leak_end seen | memwatch rule fired | memwatch first, s (median) | top culprit right | first culprits line, s (median; min-max) | sampler started | series growing |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const w of selected) {
  const rs = results.get(w.name);
  const detected = rs.filter((r) => (w.leak ? r.firstLeakS != null : r.alarms > 0));
  const times = rs.map((r) => r.firstLeakS).filter((x) => x != null);
  const errs = rs.filter((r) => r.rate != null && r.trueRate).map((r) => Math.abs(r.rate - r.trueRate) / r.trueRate * 100);
  const mw = rs.filter((r) => r.memwatchS != null);
  const withCulprits = rs.filter((r) => r.culpritRight != null);
  const growingMemories = [...new Set(rs.flatMap((r) => r.growing))];
  console.log(`| ${w.name}${w.leak ? '' : ' (no leak)'} | ${rs.length} | ${fmt(median(rs.map((r) => r.fullGcs)))} | ${fmt(median(rs.map((r) => r.probed)))} | ${detected.length}${w.leak ? '' : ' (false alarms)'} | ${w.leak ? times.filter((t) => t <= 30).length : '-'} | ${spread(times)} | ${errs.length ? `${fmt(median(errs), 1)}%; ${fmt(Math.max(...errs), 1)}%` : '-'} | ${w.name === 'leak_stops' ? rs.filter((r) => r.leakEnd).length : '-'} | ${mw.length} of ${rs.length} | ${fmt(median(mw.map((r) => r.memwatchS)), 1)} | ${w.culprit ? `${withCulprits.filter((r) => r.culpritRight).length} of ${withCulprits.length}` : '-'} | ${w.culprit ? spread(withCulprits.map((r) => r.culpritsS)) : '-'} | ${w.leak ? '-' : `${rs.filter((r) => r.samplerStarts > 0).length} of ${rs.length}`} | ${w.leak ? '-' : `${rs.filter((r) => r.growing.length).length} of ${rs.length}${growingMemories.length ? ` (${growingMemories.join(', ')})` : ''}`} |`);
}

function spawnVersion() {
  return process.versions.node === undefined ? '?' : (node === process.execPath ? process.version : node);
}
