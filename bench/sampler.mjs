#!/usr/bin/env node
// What V8's sampling heap profiler costs while it runs (GCSTATS_CULPRITS
// starts it): in one process, phases with the sampler on and off in turn
// (bench/sampler/toggle.js: on, off, off, on, ...; the CPU time of the
// whole process in each phase, every thread). No preload: the sampler is
// V8's, started here through the inspector at gcstats' default interval,
// with deeper stacks than gcstats asks for, so the figure bounds gcstats'.
//
// Workloads:
//   alloc   bench/sampler/alloc.js: allocation only, 20 frames deep, over
//           100 MB live: the worst case, a few GB allocated a second;
//   server  bench/probe/server.js: 600 MB live, 4,000 small HTTP requests
//           a second, measured after --warmup seconds of serving.
//
//   node bench/sampler.mjs [--runs=2] [--duration=45] [--phase-ms=5000] [--interval=524288]
//                          [--warmup=20] [--only=alloc,server] [--node=PATH]
// Prints a Markdown table: per workload the CPU ms of the on and off
// phases of whole groups (summed over runs), and the groups' ratios on/off
// of CPU per unit of work (each group: two phases on, two off), their
// median and each. A run of --duration seconds holds duration/phase-ms
// phases, less one the run may cut: make it a multiple of 4 phases and one.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options } from './options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opts = options(process.argv.slice(2));
const node = opts.node ?? process.execPath;
const runs = Number(opts.runs ?? 2);
const duration = Number(opts.duration ?? 45);
const phaseMs = Number(opts['phase-ms'] ?? 5000);
const interval = Number(opts.interval ?? 524288);
const warmup = Number(opts.warmup ?? 20);
const WORKLOADS = {
  alloc: { script: join(here, 'sampler', 'alloc.js'), env: { DURATION: String(duration) } },
  server: { script: join(here, 'probe', 'server.js'),
    env: { LIVE_MB: '600', RATE: '4000', REQUESTS: 'http', DURATION: String(duration), WARMUP: String(warmup) } },
};
const only = (opts.only ?? 'alloc,server').split(',');
for (const w of only) if (!WORKLOADS[w]) throw new Error(`no workload ${w}`);

function once(name) {
  return new Promise((res, rej) => {
    const env = { ...process.env, ...WORKLOADS[name].env, BENCH_PHASE: 'manual',
      SAMPLER_PHASE_MS: String(phaseMs), SAMPLER_INTERVAL: String(interval) };
    for (const k of Object.keys(env)) if (k.startsWith('GCSTATS_') || k === 'LD_PRELOAD' || k === 'NODE_OPTIONS') delete env[k];
    const child = spawn(node, ['--require', join(here, 'probe', 'measure.js'), '--require', join(here, 'sampler', 'toggle.js'),
      WORKLOADS[name].script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    child.on('error', rej);
    child.on('close', (code) => {
      const line = err.split('\n').find((l) => l.startsWith('{"sampler"'));
      if (code !== 0 || !line) return rej(new Error(`${name} exited ${code}: ${err.slice(-2000)}`));
      res(JSON.parse(line).sampler);
    });
  });
}

const sum = (a) => a.reduce((x, y) => x + y, 0);
const median = (a) => { const s = a.slice().sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const rows = [];
for (const name of only) {
  const results = [];
  for (let r = 0; r < runs; r++) {
    const s = await once(name);
    process.stderr.write(`${name} #${r}: ${JSON.stringify(s)}\n`);
    results.push(s);
  }
  const onMs = sum(results.map((s) => sum(s.onMs))), offMs = sum(results.map((s) => sum(s.offMs)));
  const groups = results.flatMap((s) => s.groupRatios);
  rows.push(`| ${name} | ${Math.round(onMs)} / ${Math.round(offMs)} | ${median(groups).toFixed(3)} | `
    + `${groups.map((g) => g.toFixed(3)).join(', ')} |`);
}
console.log(`node ${node}, ${runs} runs of ${duration} s per workload, phases of ${phaseMs} ms (on, off, off, on), interval ${interval} bytes\n`);
console.log('| workload | CPU ms on / off | ratio on/off, median of groups | each group |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(r);
