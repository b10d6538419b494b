#!/usr/bin/env node
// What the probe costs the host. Each workload runs without the preload
// ("none") and under libgcstats.so with its default settings ("default"),
// and optionally with GCSTATS_PROBE=0 ("off") and with V8's heap sampler
// on from the start, GCSTATS_CULPRITS=always ("sampler"), in turns (none, default,
// none, default, ...) so that machine noise hits both alike, one run at a
// time; and with one setting changed: GCSTATS_PROBE_BUDGET=P ("budget=P",
// e.g. budget=0.1: the probe held to a tenth of its default budget, side
// by side with it) or GCSTATS_CULPRITS=V ("culprits=V": auto, always, off).
// Workloads:
//   large_heap  bench/probe/server.js: ~600 MB live (--live-mb) and a fixed
//               number of small requests, 4,000 a second (--rate) for the
//               duration, over HTTP on 127.0.0.1 (--requests loop: a timer),
//               measured after --warmup seconds of serving (default 40: the
//               heap's building ends with long full GCs, after which the
//               probe's first wait is long, ~30 s at 600 MB);
//   huge_heap   the same with ~2 GB live (--huge-mb), node started with a
//               --max-old-space-size large enough;
//   and every detection workload of bench/detect/workloads (DURATION).
// What is measured, inside the child (bench/probe/measure.js, loaded with
// --require): the CPU time of the whole process (user + system, every
// thread) over the measured phase only (the server's serving, not the
// building of its heap; a detection workload's run, not its closing
// gc() calls), and the main isolate's GCs over that phase by type, from
// V8's GC callbacks (v8.GCProfiler), the same counter with and without
// the preload. The preloaded runs' `stats` lines in the phase say how many
// full GCs gcstats asked for ("probe": true), and must count as many full
// GCs as V8's callbacks did (a mismatch is printed).
// It prints a Markdown table: per workload the median CPU seconds, the
// median ratio default/none of the CPU time and each pair's, full GCs per
// minute (of them probed), the probe's CPU by its own measure as a share
// of the phase's CPU (the stats lines' probe_cpu_ns in the phase, default
// runs: a pair's ratio moves by 10-20% between runs here, which hides 1%;
// this share is read within one run), main-thread GC pauses, scavenges,
// peak RSS.
//
//   node bench/probe.mjs [--pairs N] [--duration S] [--only a,b] [--modes none,default,off,sampler,budget=P,culprits=V]
//                        [--live-mb MB] [--huge-mb MB] [--rate R] [--requests http|loop] [--warmup S] [--skip S]
//                        [--lib PATH] [--node PATH] [--md FILE] [--gcstats-env NAME=VALUE,...]
// Defaults: 5 pairs, 45 s, every workload, modes none,default, 600 MB and
// 2048 MB live, 4000 requests a second over HTTP after 40 s of the same
// (the servers' runs last ~85 s at 600 MB, ~110 s at 2 GB). --skip S
// measures the detection workloads from S seconds in to the end of their
// --duration: after start-up, when the probe's budget is its rate alone
// (its burst spent). Raw lines, each run's
// numbers (runs.json) and the table (probe.md, or --md) go to
// $TMPDIR/gcstats-probe-*/. --gcstats-env adds settings to every run under
// the preload ("sampler" sets GCSTATS_CULPRITS=always over them). The cost
// of the sampler alone: --modes none,default,sampler --gcstats-env
// GCSTATS_CULPRITS=off, and the column "CPU ratio sampler/default".
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const lib = resolve(arg('lib', join(here, '..', 'build', 'libgcstats.so')));
const node = arg('node', process.execPath);
const pairs = Number(arg('pairs', 5));
const duration = Number(arg('duration', 45));
const liveMb = Number(arg('live-mb', 600));
const hugeMb = Number(arg('huge-mb', 2048));
const rate = Number(arg('rate', 4000));
const requests = arg('requests', 'http');
const warmup = Number(arg('warmup', 40));
// The detection workloads: measured from this many seconds in (the
// servers have --warmup).
const skip = Number(arg('skip', 0));
if (!(skip >= 0 && skip < duration)) throw new Error('--skip must be at least 0 and less than --duration');
const modes = arg('modes', 'none,default').split(',');
const gcstatsEnv = Object.fromEntries((arg('gcstats-env', '') || '').split(',').filter(Boolean)
  .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const out = mkdtempSync(join(tmpdir(), 'gcstats-probe-'));
const mdFile = arg('md', join(out, 'probe.md'));
const measure = join(here, 'probe', 'measure.js');
const detectDir = join(here, 'detect', 'workloads');

// A mode that changes one setting: [variable, value], or null. Only
// values gcstats takes: it would take any other for its default, and the
// column would lie.
const settingOf = (m) => {
  const budget = m.match(/^budget=(\d+(?:\.\d+)?)$/);
  if (budget) return Number(budget[1]) >= 0.01 && Number(budget[1]) <= 100 ? ['GCSTATS_PROBE_BUDGET', budget[1]] : null;
  const culprits = m.match(/^culprits=(auto|always|off)$/);
  return culprits ? ['GCSTATS_CULPRITS', culprits[1]] : null;
};
for (const m of modes) {
  if (!['none', 'default', 'off', 'sampler'].includes(m) && settingOf(m) == null)
    throw new Error(`unknown mode ${m} (budget=P takes P from 0.01 to 100, culprits=V auto, always or off)`);
}
if (new Set(modes).size !== modes.length) throw new Error('--modes names a mode twice');
const settingModes = modes.filter((m) => settingOf(m) != null);
if (!modes.includes('none') || !modes.includes('default')) throw new Error('--modes needs none and default');
if (!existsSync(lib)) throw new Error(`${lib} is missing: build first (meson compile -C build)`);

const server = (name, mb, nodeFlags) => ({
  name, label: `${name} (${mb} MB live, ${rate} req/s ${requests}, after ${warmup} s)`, nodeFlags,
  script: join(here, 'probe', 'server.js'),
  env: { BENCH_PHASE: 'manual', LIVE_MB: String(mb), RATE: String(rate), REQUESTS: requests, DURATION: String(duration), WARMUP: String(warmup) },
});
const WORKLOADS = [
  server('large_heap', liveMb, []),
  // V8's default limit would leave little room above 2 GB live, and a
  // heap near its limit is collected differently.
  server('huge_heap', hugeMb, [`--max-old-space-size=${Math.max(4096, 2 * hugeMb + 1024)}`]),
  ...readdirSync(detectDir).filter((f) => f.endsWith('.js') && f !== 'common.js').sort().map((f) => ({
    name: f.slice(0, -3), label: f.slice(0, -3), nodeFlags: [], script: join(detectDir, f),
    env: { DURATION: String(duration), BENCH_DURATION: String(duration), BENCH_SKIP: String(skip) },
  })),
];
const only = arg('only', '');
const selected = only ? only.split(',').map((n) => WORKLOADS.find((w) => w.name === n) || (() => { throw new Error(`no workload ${n}`); })()) : WORKLOADS;

function once(w, mode, i) {
  return new Promise((res, rej) => {
    const file = join(out, `${w.name}-${mode}-${i}.jsonl`);
    const env = { ...process.env, ...w.env };
    delete env.LD_PRELOAD;
    for (const k of Object.keys(env)) if (k.startsWith('GCSTATS_')) delete env[k];
    if (mode !== 'none') Object.assign(env, gcstatsEnv, { LD_PRELOAD: lib, GCSTATS_FILE: file });
    if (mode === 'off') env.GCSTATS_PROBE = '0';
    if (mode === 'sampler') env.GCSTATS_CULPRITS = 'always';
    if (settingOf(mode) != null) env[settingOf(mode)[0]] = settingOf(mode)[1];
    const child = spawn(node, [...w.nodeFlags, '--expose-gc', '--require', measure, w.script],
      { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', rej);
    child.on('close', (code, signal) => {
      const line = stderr.split('\n').find((l) => l.startsWith('{"bench"'));
      if (code !== 0 || !line) return rej(new Error(`${w.name} (${mode}) exited ${code ?? signal}: ${stderr.slice(-2000)}`));
      const b = JSON.parse(line).bench;
      const gcs = b.gcs || {};
      const r = {
        cpuS: b.cpuS, wallS: b.wallS,
        fullGcs: b.gcs ? gcs.MarkSweepCompact || 0 : null,
        scavenges: (gcs.Scavenge || 0) + (gcs.MinorMarkSweep || 0) + (gcs.MinorMarkCompact || 0),
        pauseMs: b.gcMs ? Object.values(b.gcMs).reduce((a, x) => a + x, 0) : null,
        rssPeakMb: b.maxRssKb / 1024,
        lagS: b.lagS ?? null, buildS: b.buildS ?? null, served: b.served ?? null,
      };
      if (mode !== 'none') {
        const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
        const inPhase = (l) => { const t = Date.parse(l.ts); return t >= b.begunAt && t <= b.endedAt; };
        const stats = lines.filter((l) => l.event === 'stats' && l.isolate === 1 && inPhase(l));
        r.gcstatsFullGcs = stats.length;
        r.probed = stats.filter((l) => l.probe).length;
        // What the probe cost in the phase by its own measure: the
        // probe_cpu_ns of the stats lines in it, every isolate's (the
        // process CPU of each cycle it asked for, beyond the
        // application's rate: gcstats(7)).
        // 0 where no full GC ended in the phase; null from a library
        // older than the field.
        const statsIn = lines.filter((l) => l.event === 'stats' && inPhase(l));
        r.probeCpuS = statsIn.every((l) => typeof l.probe_cpu_ns === 'number')
          ? statsIn.reduce((a, l) => a + l.probe_cpu_ns, 0) / 1e9 : null;
        r.probeShare = r.probeCpuS == null ? null : r.probeCpuS / r.cpuS;
        r.errors = lines.filter((l) => l.event === 'error').map((l) => l.reason);
        for (const e of r.errors) process.stderr.write(`warning: ${w.name} (${mode}) #${i}: gcstats error line: ${e}\n`);
        // A full GC ending within a millisecond of the phase's edges can
        // fall on the other side of the line than V8's callbacks put it.
        if (r.fullGcs != null && Math.abs(r.gcstatsFullGcs - r.fullGcs) > 1) {
          process.stderr.write(`warning: ${w.name} (${mode}) #${i}: ${r.gcstatsFullGcs} stats lines in the phase, ${r.fullGcs} full GCs by V8's callbacks\n`);
        }
      }
      res(r);
    });
  });
}

const median = (xs) => { const s = xs.filter((x) => x != null).sort((a, b) => a - b); if (!s.length) return null; const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const f = (x, d = 1) => (x == null ? '-' : x.toFixed(d));
const perMin = (r, k) => (r[k] == null ? null : r[k] / r.wallS * 60);

const estimateS = selected.reduce((a, w) => a + (duration + (w.name === 'huge_heap' ? warmup + 30 : w.name === 'large_heap' ? warmup + 10 : 2)), 0) * pairs * modes.length;
process.stderr.write(`${selected.length} workloads x ${pairs} pairs x ${modes.join('/')}: about ${Math.round(estimateS / 60)} min; raw lines in ${out}\n`);

const rows = [];
for (const w of selected) {
  const runs = Object.fromEntries(modes.map((m) => [m, []]));
  for (let i = 0; i < pairs; i++) {
    for (const m of modes) runs[m].push(await once(w, m, i));
    process.stderr.write(`${w.name} #${i}: ${modes.map((m) => `${m} ${JSON.stringify(runs[m][i])}`).join(' ')}\n`);
  }
  const ratio = (a, b) => runs[a].map((r, i) => r.cpuS / runs[b][i].cpuS);
  rows.push({ w, runs, ratios: ratio('default', 'none'), offRatios: runs.off ? ratio('off', 'none') : null,
    samplerRatios: runs.sampler ? ratio('sampler', 'default') : null,
    settingRatios: settingModes.map((m) => ratio(m, 'none')) });
}
writeFileSync(join(out, 'runs.json'), JSON.stringify(rows.map(({ w, runs }) => ({ workload: w.name, runs })), null, 1));

const md = [];
const m = (rs, k, d = 1) => f(median(rs.map((r) => r[k])), d);
const mPerMin = (rs, k) => f(median(rs.map((r) => perMin(r, k))), 1);
const shown = modes.join(' / ');
md.push(`node ${node === process.execPath ? process.version : node}, ${skip ? `detection workloads measured from ${skip} s to ${duration} s of their run${selected.some((w) => w.name.endsWith('_heap')) ? `, servers ${duration} s after their warm-up` : ''}` : `${duration} s measured per run`}, ${pairs} pairs (${modes.join(', ')} in turns), one run at a time; none = no preload, default = libgcstats.so with default settings${modes.includes('off') ? ', off = GCSTATS_PROBE=0' : ''}${modes.includes('sampler') ? ', sampler = GCSTATS_CULPRITS=always' : ''}${settingModes.map((m) => `, ${m} = ${settingOf(m).join('=')}`).join('')}${Object.keys(gcstatsEnv).length ? `; every preloaded run also has ${Object.entries(gcstatsEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}.`);
md.push('');
md.push(`| workload | CPU s ${shown} (median) | CPU ratio default/none (median; per pair) |${modes.includes('off') ? ' CPU ratio off/none (median) |' : ''}${modes.includes('sampler') ? ' CPU ratio sampler/default (median; per pair) |' : ''}${settingModes.map((m) => ` CPU ratio ${m}/none (median; per pair) |`).join('')} full GCs per min ${shown} (probed) | probe's CPU by its own measure, % of the phase's (median; per run) |${settingModes.map((m) => ` the same, ${m} |`).join('')} GC pauses ms ${shown} | scavenges ${shown} | RSS peak MiB ${shown} | phase s ${shown} |`);
md.push(`| --- | --- | --- |${modes.includes('off') ? ' --- |' : ''}${modes.includes('sampler') ? ' --- |' : ''}${' --- |'.repeat(2 * settingModes.length)} --- | --- | --- | --- | --- | --- |`);
const shares = (rs) => `${f(median(rs.map((r) => r.probeShare == null ? null : 100 * r.probeShare)), 2)}; ${rs.map((r) => (r.probeShare == null ? '-' : f(100 * r.probeShare, 2))).join(', ')}`;
for (const { w, runs, ratios, offRatios, samplerRatios, settingRatios } of rows) {
  const each = (fn) => modes.map((mo) => fn(runs[mo])).join(' / ');
  md.push(`| ${w.label} | ${each((rs) => m(rs, 'cpuS', 2))} | ${f(median(ratios), 3)}; ${ratios.map((r) => f(r, 3)).join(', ')} |${offRatios ? ` ${f(median(offRatios), 3)} |` : ''}${samplerRatios ? ` ${f(median(samplerRatios), 3)}; ${samplerRatios.map((r) => f(r, 3)).join(', ')} |` : ''}`
    + settingRatios.map((rs) => ` ${f(median(rs), 3)}; ${rs.map((r) => f(r, 3)).join(', ')} |`).join('')
    + ` ${modes.map((mo) => mPerMin(runs[mo], 'fullGcs') + (mo === 'none' ? '' : ` (${mPerMin(runs[mo], 'probed')})`)).join(' / ')}`
    + ` | ${shares(runs.default)}${settingModes.map((m) => ` | ${shares(runs[m])}`).join('')}`
    + ` | ${each((rs) => m(rs, 'pauseMs', 0))} | ${each((rs) => m(rs, 'scavenges', 0))} | ${each((rs) => m(rs, 'rssPeakMb', 0))} | ${each((rs) => m(rs, 'wallS', 1))} |`);
}
if (selected.some((w) => w.name === 'worker_leak')) md.push('', 'worker_leak: CPU time is the whole process\'s; GCs and pauses are the main isolate\'s only.');
writeFileSync(mdFile, md.join('\n') + '\n');
console.log(md.join('\n'));
process.stderr.write(`table in ${mdFile}\n`);
