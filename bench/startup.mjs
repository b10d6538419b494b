#!/usr/bin/env node
// Start-up and memory cost of the preload: `node -e 0` (or another
// script) run without the preload, with it, and with it and
// GCSTATS_MAPS=0, in interleaved rounds (the order rotates every round) so
// that the machine's noise hits the three alike. Per run: the wall time
// (hrtime around the spawn of /usr/bin/time, or perf's: below), and from /usr/bin/time the
// child's peak RSS (getrusage ru_maxrss) and minor page faults. Page faults
// and instruction counts are repeatable on a loaded machine, wall times
// are not: --callgrind=N adds the median of N instruction counts per
// configuration (valgrind --tool=callgrind, every thread of the process).
// Where perf is installed, each run is timed by `perf stat -e
// task-clock,duration_time`: the wall time is then perf's, from the exec
// of /usr/bin/time to its exit (perf's own start-up left out), and a CPU
// time column is added: node's and its threads' (and /usr/bin/time's, the
// same in every configuration), steadier than the wall time; where the
// two differ by much, the difference is time spent waiting.
// --also=a.so,b.so adds other builds of the library to the rounds (named
// by their paths), to compare two versions side by side in one run.
//
//   node bench/startup.mjs [--pairs=30] [--callgrind=0] [--lib=build/libgcstats.so]
//                          [--also=other.so,...] [--node=node] [-- script args...]
//
// The children get a clean environment as a new user has it: no
// NODE_OPTIONS, no NODE_EXTRA_CA_CERTS (reading a CA bundle costs ~5x the
// whole start-up of node), no GCSTATS_* but GCSTATS_MAPS=0 where said.
// Lines go to standard error, which is /dev/null.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options } from './options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const opts = options(dash < 0 ? argv : argv.slice(0, dash));
const pairs = Number(opts.pairs ?? 30);
const callgrindRuns = Number(opts.callgrind ?? 0);
const lib = resolve(opts.lib ?? join(here, '..', 'build', 'libgcstats.so'));
const node = opts.node ?? process.execPath;
const script = dash < 0 ? ['-e', '0'] : argv.slice(dash + 1);
if (!existsSync(lib)) throw new Error(`${lib} not found: build first (meson compile -C build)`);
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed (apt-get install time)');

const dir = mkdtempSync(join(tmpdir(), 'gcstats-startup-'));
const timeOut = join(dir, 'time');
const perfOut = join(dir, 'perf');
const perfEvents = ['-e', 'task-clock,duration_time'];
// perf's CSV lines: "<msec>,msec,task-clock,..." and "<ns>,ns,duration_time,...",
// the events named with ":u" where perf may count only user space (an
// unprivileged user); a counter perf could not read says "<not counted>".
function perfCounts() {
  const lines = readFileSync(perfOut, 'utf8').split('\n').map((l) => l.split(','));
  const counted = (event) => {
    const l = lines.find((f) => f[2] === event || (f[2] ?? '').startsWith(`${event}:`));
    const v = l ? Number(l[0]) : NaN;
    return Number.isFinite(v) ? v : null;
  };
  const cpuMs = counted('task-clock'), wallNs = counted('duration_time');
  return cpuMs == null || wallNs == null ? null : { cpuMs, wallMs: wallNs / 1e6 };
}
const perf = spawnSync('perf', ['stat', '-x,', ...perfEvents, '-o', perfOut, '--', 'true'], { stdio: 'ignore' }).status === 0 &&
             perfCounts() != null;

const clean = { ...process.env };
for (const k of Object.keys(clean))
  if (k.startsWith('GCSTATS_') || ['LD_PRELOAD', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'].includes(k)) delete clean[k];
const also = (opts.also ?? '').split(',').filter((p) => p !== '').map((p) => resolve(p));
for (const p of also) if (!existsSync(p)) throw new Error(`--also: ${p} not found`);
const configs = [
  { name: 'without', env: clean },
  { name: 'with', env: { ...clean, LD_PRELOAD: lib } },
  { name: 'maps=0', env: { ...clean, LD_PRELOAD: lib, GCSTATS_MAPS: '0' } },
  ...also.map((p) => ({ name: p, env: { ...clean, LD_PRELOAD: p } })),
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function once(config) {
  const timed = ['/usr/bin/time', '-o', timeOut, '-f', '%M %R', node, ...script];
  const [cmd, ...args] = perf ? ['perf', 'stat', '-x,', ...perfEvents, '-o', perfOut, '--', ...timed] : timed;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: config.env, stdio: 'ignore' });
  let wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${config.name}: ${node} ${script.join(' ')} exited ${r.status}`);
  const [maxrssKb, minorFaults] = readFileSync(timeOut, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  let cpuMs = NaN;
  const counts = perf ? perfCounts() : null;
  if (perf && counts == null) throw new Error(`${config.name}: perf stat gave no task-clock or duration_time: ${readFileSync(perfOut, 'utf8')}`);
  if (counts) ({ cpuMs, wallMs } = counts);
  return { wallMs, cpuMs, rssKb: maxrssKb, faults: minorFaults };
}

function instructions(config) {
  const counts = [];
  for (let i = 0; i < callgrindRuns; i++) {
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', node, ...script],
                        { env: config.env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const m = r.stderr.match(/Collected : (\d+)/);
    if (!m) throw new Error(`callgrind gave no count: ${r.stderr.slice(-500)}`);
    counts.push(Number(m[1]));
  }
  return median(counts);
}

for (const c of configs) once(c);   // the page cache, for all of them
const runs = Object.fromEntries(configs.map((c) => [c.name, []]));
for (let round = 0; round < pairs; round++)
  for (let k = 0; k < configs.length; k++) {
    const c = configs[(round + k) % configs.length];
    runs[c.name].push(once(c));
  }
rmSync(dir, { recursive: true, force: true });

const base = runs.without;
const version = spawnSync(node, ['--version'], { encoding: 'utf8', env: clean }).stdout.trim();
console.log(`node ${version}, ${node} ${script.join(' ')}, ${pairs} interleaved rounds; with: ${lib}`);
console.log('config    wall median  +ms vs without (median of round differences)  ratio  peak RSS  +KiB  minor faults' +
            (perf ? '  CPU median  +ms CPU  CPU ratio' : ''));
const summary = {};
for (const c of configs) {
  const rs = runs[c.name];
  const wall = median(rs.map((r) => r.wallMs));
  const plusMs = median(rs.map((r, i) => r.wallMs - base[i].wallMs));
  const ratio = median(rs.map((r, i) => r.wallMs / base[i].wallMs));
  const rss = median(rs.map((r) => r.rssKb));
  const plusKb = median(rs.map((r, i) => r.rssKb - base[i].rssKb));
  const faults = median(rs.map((r) => r.faults));
  const cpu = median(rs.map((r) => r.cpuMs));
  const plusCpuMs = median(rs.map((r, i) => r.cpuMs - base[i].cpuMs));
  const cpuRatio = median(rs.map((r, i) => r.cpuMs / base[i].cpuMs));
  summary[c.name] = { wall, plusMs, ratio, rss, plusKb, faults };
  console.log(`${c.name.padEnd(9)} ${wall.toFixed(1).padStart(8)} ms  ${plusMs.toFixed(2).padStart(8)} ms${' '.repeat(38)}` +
              `${ratio.toFixed(3)}  ${String(rss).padStart(6)} KiB ${String(plusKb).padStart(5)}  ${String(faults).padStart(12)}` +
              (perf ? `  ${cpu.toFixed(1).padStart(7)} ms  ${plusCpuMs.toFixed(2).padStart(6)}  ${cpuRatio.toFixed(3)}` : ''));
}
if (callgrindRuns > 0) {
  const counts = Object.fromEntries(configs.map((c) => [c.name, instructions(c)]));
  for (const c of configs)
    console.log(`instructions (callgrind, median of ${callgrindRuns}) ${c.name.padEnd(8)} ${counts[c.name]}` +
                (c.name === 'without' ? '' : `  (${((counts[c.name] / counts.without - 1) * 100).toFixed(2)}%)`));
}
const w = summary.with;
console.log(`target start-up: at most +1 ms or a ratio of at most 1.01 -> ${w.plusMs <= 1 || w.ratio <= 1.01 ? 'met' : 'NOT met'}`);
console.log(`target memory: peak RSS at most +1 MiB -> ${w.plusKb <= 1024 ? 'met' : 'NOT met'}`);
