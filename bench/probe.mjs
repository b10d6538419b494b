#!/usr/bin/env node
// What the probe costs the host. The same detection workloads
// (bench/detect/workloads) run under libgcstats.so with GCSTATS_PROBE=0
// and with the default, in turns (off, on, off, on, ...) so that machine
// noise hits both alike, one at a time. For each it reports medians of:
// the process's CPU time (user + system, every thread, read by the
// workload itself at exit), full GCs and how many were probed, the
// main-thread GC pauses V8 reports to callbacks (all kinds), scavenges,
// and the peak RSS; and the ratio on/off of the CPU time per pair.
//
//   node bench/probe.mjs [--pairs N] [--duration S] [--only a,b] [--lib PATH] [--node PATH]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const lib = resolve(arg('lib', join(here, '..', 'build', 'libgcstats.so')));
const node = arg('node', process.execPath);
const pairs = Number(arg('pairs', 3));
const duration = Number(arg('duration', 30));
const only = arg('only', 'idle_leak,slow_leak,steady').split(',');
const out = mkdtempSync(join(tmpdir(), 'gcstats-probe-'));
const cpuAtExit = join(here, 'cpu_at_exit.js');

function once(name, probe, i) {
  return new Promise((res, rej) => {
    const file = join(out, `${name}-${probe}-${i}.jsonl`);
    const env = { ...process.env, LD_PRELOAD: lib, GCSTATS_FILE: file, DURATION: String(duration) };
    for (const k of Object.keys(env)) if (k.startsWith('GCSTATS_') && k !== 'GCSTATS_FILE') delete env[k];
    if (probe === 'off') env.GCSTATS_PROBE = '0';
    const child = spawn(node, ['--expose-gc', '--require', cpuAtExit, join(here, 'detect', 'workloads', `${name}.js`)],
      { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0) return rej(new Error(`${name} exited ${code}: ${stderr}`));
      const cpu = JSON.parse(stderr.trim().split('\n').find((l) => l.startsWith('{"cpu_at_exit"')));
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      // The run proper: before the workload's own closing gc() calls.
      const stats = lines.filter((l) => l.event === 'stats' && l.isolate === 1 && !l.forced);
      const exit = lines.find((l) => l.event === 'exit');
      const pauseMs = Object.values(exit.gc).reduce((a, k) => a + k.pause_ms, 0);
      res({
        cpuS: cpu.cpu_at_exit.cpu_s,
        fullGcs: stats.length,
        probed: stats.filter((l) => l.probe).length,
        pauseMs,
        scavenges: exit.gc.scavenge.count,
        rssPeakMb: exit.rss_peak / 1048576,
      });
    });
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const rows = [];
for (const name of only) {
  const off = [], on = [];
  for (let i = 0; i < pairs; i++) {
    off.push(await once(name, 'off', i));
    on.push(await once(name, 'on', i));
    process.stderr.write(`${name} #${i}: off ${JSON.stringify(off[i])} on ${JSON.stringify(on[i])}\n`);
  }
  rows.push({ name, off, on, ratios: on.map((r, i) => r.cpuS / off[i].cpuS) });
}

const f = (x, d = 1) => x.toFixed(d);
const m = (rs, k, d = 1) => f(median(rs.map((r) => r[k])), d);
console.log(`node ${node === process.execPath ? process.version : node}, ${duration} s runs, ${pairs} pairs (GCSTATS_PROBE=0, then the default 5), one at a time; raw lines in ${out}\n`);
console.log('| workload | CPU s off / on | CPU ratio on/off (median; per pair) | full GCs off / on (probed) | GC pauses ms off / on | scavenges off / on | RSS peak MiB off / on |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const { name, off, on, ratios } of rows) {
  console.log(`| ${name} | ${m(off, 'cpuS', 2)} / ${m(on, 'cpuS', 2)} | ${f(median(ratios), 3)}; ${ratios.map((r) => f(r, 3)).join(', ')} | ${m(off, 'fullGcs', 0)} / ${m(on, 'fullGcs', 0)} (${m(on, 'probed', 0)}) | ${m(off, 'pauseMs', 0)} / ${m(on, 'pauseMs', 0)} | ${m(off, 'scavenges', 0)} / ${m(on, 'scavenges', 0)} | ${m(off, 'rssPeakMb', 0)} / ${m(on, 'rssPeakMb', 0)} |`);
}
