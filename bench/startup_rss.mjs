#!/usr/bin/env node
// Where the preload's start-up memory goes: a node that has started (its
// script printed "ready") is read from /proc/PID/smaps, without the
// preload, with it, and with it and GCSTATS_MAPS=0, in interleaved rounds.
// Per configuration, the median over the rounds of each mapping group's
// resident memory (Rss), of its dirty part (Private_Dirty + Shared_Dirty:
// memory written, which only swap could take back) and of its clean part
// (Private_Clean + Shared_Clean: file pages read, which stay in the page
// cache for every process mapping the file and can be dropped at any time;
// smaps calls a clean page "private" when no other process maps it at
// that moment, so private is not the measure here). bench/startup.mjs measures peak RSS (ru_maxrss) and time; this
// says what that RSS is made of. Memory is not timing: a loaded machine
// gives the same figures.
//
//   node bench/startup_rss.mjs [--rounds=10] [--lib=build/libgcstats.so] [--node=node]
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options } from './options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opts = options(process.argv.slice(2));
const rounds = Number(opts.rounds ?? 10);
const lib = resolve(opts.lib ?? join(here, '..', 'build', 'libgcstats.so'));
const node = opts.node ?? process.execPath;
if (!existsSync(lib)) throw new Error(`${lib} not found: build first (meson compile -C build)`);

function cleanEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GCSTATS_') || k.startsWith('NODE_') || k === 'LD_PRELOAD') delete env[k];
  return { ...env, ...extra };
}

const configs = [
  { name: 'no preload', env: cleanEnv({}) },
  { name: 'gcstats', env: cleanEnv({ LD_PRELOAD: lib }) },
  { name: 'gcstats, GCSTATS_MAPS=0', env: cleanEnv({ LD_PRELOAD: lib, GCSTATS_MAPS: '0' }) },
];

// Groups of mappings, by what backs them.
function group(path) {
  if (path === '') return 'anonymous';
  if (path === '[heap]') return 'malloc heap';
  if (path.startsWith('[')) return 'other [..]';
  if (path === lib) return 'libgcstats.so';
  if (resolve(path) === resolve(node) || basename(path) === 'node') return 'node (file)';
  if (/\.so(\.|$)/.test(path)) return 'other libraries';
  return 'other files';
}

function readSmaps(pid) {
  const out = {};
  let cur = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const g = group(head[1].replace(/ \(deleted\)$/, ''));
      cur = out[g] ??= { rss: 0, dirty: 0, clean: 0 };
      continue;
    }
    const f = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (!f || !cur) continue;
    const kb = Number(f[2]);
    if (f[1] === 'Rss') cur.rss += kb;
    else if (f[1] === 'Private_Dirty' || f[1] === 'Shared_Dirty') cur.dirty += kb;
    else if (f[1] === 'Private_Clean' || f[1] === 'Shared_Clean') cur.clean += kb;
  }
  return out;
}

// Starts node, waits for "ready" (start-up done, the event loop running),
// reads its smaps, and ends it.
function sample(env) {
  return new Promise((resolveSample, reject) => {
    const child = spawn(node, ['-e', 'console.log("ready"); setTimeout(() => {}, 60000)'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.setEncoding('utf8').once('data', () => {
      try { resolveSample(readSmaps(child.pid)); } catch (e) { reject(e); } finally { child.kill('SIGKILL'); }
    });
    child.on('error', reject);
  });
}

const samples = configs.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < configs.length; k++) {
    const i = (k + r) % configs.length;   // the order rotates every round
    samples[i].push(await sample(configs[i].env));
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const groups = [...new Set(samples.flat().flatMap((s) => Object.keys(s)))].sort();
const field = (i, g, f) => median(samples[i].map((s) => s[g]?.[f] ?? 0));
const total = (i, f) => median(samples[i].map((s) => Object.values(s).reduce((a, v) => a + v[f], 0)));

console.log(`node ${node} (${process.versions.node} runs this script), ${rounds} rounds; KiB, medians; + is against no preload`);
console.log('| group | ' + configs.map((c) => `${c.name}: rss / dirty / clean`).join(' | ') + ' |');
console.log('| --- |' + configs.map(() => ' --- |').join(''));
const row = (label, get) => {
  const cells = configs.map((_, i) => {
    const v = ['rss', 'dirty', 'clean'].map((f) => get(i, f));
    const base = ['rss', 'dirty', 'clean'].map((f) => get(0, f));
    return v.map((x, j) => (i === 0 ? String(x) : `${x} (${x - base[j] >= 0 ? '+' : ''}${x - base[j]})`)).join(' / ');
  });
  console.log(`| ${label} | ${cells.join(' | ')} |`);
};
for (const g of groups) row(g, (i, f) => field(i, g, f));
row('**all**', (i, f) => total(i, f));
