#!/usr/bin/env node
// The time and memory of `gcstats report` on big logs. Makes a real log
// first (a leaking node and a node with two Workers under the preload, a
// few seconds), then logs of the given sizes from its lines: copies with
// other pids (--pids processes in one file) and times shifted forward, so
// that each process runs on and on; then times the report of each, as
// text and as HTML, with /usr/bin/time (elapsed and user CPU seconds,
// peak RSS).
// The peak RSS must not grow with the size of the log.
//
//   node bench/report.mjs [--build=build] [--sizes=100,1024] [--pids=200] [--dir=/tmp]
//
// The logs are removed afterwards (--keep=1 keeps them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options } from './options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opts = options(process.argv.slice(2));
const build = resolve(opts.build || join(here, '..', 'build'));
const sizesMb = (opts.sizes || '100,1024').split(',').map(Number);
const pids = Number(opts.pids || 200);
const dir = mkdtempSync(join(opts.dir || tmpdir(), 'gcstats-bench-report-'));
const lib = join(build, 'libgcstats.so');
const gcstats = join(build, 'cmd', 'gcstats');
const fixtures = join(here, '..', 'tests', 'fixtures');

// 1. a real log
const real = join(dir, 'real.jsonl');
const env = { ...process.env, LD_PRELOAD: lib, GCSTATS_FILE: real, GCSTATS_INTERVAL: '1',
  GCSTATS_LEAK_MIN_SPAN: '3', GCSTATS_LEAK_REPORT: '2' };
for (const args of [['--expose-gc', join(fixtures, 'leak_then_stop.js'), 'heap', '7000', '10000'],
  [join(fixtures, 'two_workers.js')]]) {
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.status}`);
}
const template = readFileSync(real, 'utf8').split('\n').filter(Boolean);
const parsed = template.map((l) => JSON.parse(l));
const t0 = Math.min(...parsed.map((l) => Date.parse(l.ts)));
const span = Math.max(...parsed.map((l) => Date.parse(l.ts))) - t0 + 1000;
const realPids = [...new Set(parsed.map((l) => l.pid))];
console.log(`real log: ${template.length} lines, ${realPids.length} processes, ${(span / 1000).toFixed(1)} s`);

// Each template line split around its pid and its times, to be glued
// back with new ones.
const isoRe = /"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"/g;
const parts = template.map((line) => {
  const pieces = [];
  const times = [];
  let last = 0;
  for (const m of line.matchAll(isoRe)) {
    pieces.push(line.slice(last, m.index + 1));
    times.push(Date.parse(m[1]) - t0);
    last = m.index + 1 + m[1].length;
  }
  pieces.push(line.slice(last));
  const pid = JSON.parse(line).pid;
  return { pieces, times, pidIndex: realPids.indexOf(pid), pidText: `"pid":${pid},` };
});

// start lines only in the first round, exit and end lines only in the
// last: each process has one start and one end, and runs through all the
// rounds in between
function makeLog(path, bytes) {
  const fd = openSync(path, 'w');
  let written = 0;
  let chunk = [];
  let chunkBytes = 0;
  const rounds = Math.ceil(bytes / (Buffer.byteLength(template.join('\n')) * pids / realPids.length));
  for (let round = 0; round < rounds && written < bytes; round++) {
    for (let p = 0; p < pids && written < bytes; p++) {
      const source = p % realPids.length;
      for (const { pieces, times, pidIndex, pidText } of parts) {
        if (pidIndex !== source) continue;
        const first = pieces[0];
        if (round > 0 && first.includes('"event":"start"')) continue;
        if (round < rounds - 1 && (first.includes('"event":"exit"') || first.includes('"event":"end"'))) continue;
        const base = Date.UTC(2026, 0, 1) + p * 37 + round * span;
        let line = pieces[0];
        for (let i = 0; i < times.length; i++) line += new Date(base + times[i]).toISOString() + pieces[i + 1];
        line = line.replace(pidText, `"pid":${100000 + p},`) + '\n';
        chunk.push(line);
        chunkBytes += line.length;
        if (chunkBytes > 1 << 20) {
          written += writeSync(fd, chunk.join(''));
          chunk = [];
          chunkBytes = 0;
        }
      }
    }
  }
  if (chunk.length) written += writeSync(fd, chunk.join(''));
  closeSync(fd);
  return written;
}

function timed(args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %M', gcstats, 'report', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`gcstats report ${args.join(' ')}: ${r.status} ${r.stderr.slice(-500)}`);
  const [seconds, user, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, user, rssMb: kb / 1024, stdout: r.stdout };
}

for (const mb of sizesMb) {
  const log = join(dir, `log-${mb}.jsonl`);
  const made = makeLog(log, mb * 1024 * 1024);
  const lines = Number(spawnSync('wc', ['-l', log], { encoding: 'utf8' }).stdout.split(' ')[0]);
  const text = timed([log]);
  const html = join(dir, `report-${mb}.html`);
  const page = timed([log, '-o', html]);
  console.log(`${(made / 1048576).toFixed(0)} MiB, ${lines} lines, ${pids} processes: ` +
    `text ${text.seconds.toFixed(1)} s (${text.user.toFixed(1)} s user), peak RSS ${text.rssMb.toFixed(1)} MiB; ` +
    `html ${page.seconds.toFixed(1)} s (${page.user.toFixed(1)} s user), peak RSS ${page.rssMb.toFixed(1)} MiB, page ${(statSync(html).size / 1024).toFixed(0)} KiB`);
  console.log(`  (${text.stdout.split('\n')[0]})`);
  if (opts.keep !== '1') rmSync(log);
}
if (opts.keep !== '1') rmSync(dir, { recursive: true });
