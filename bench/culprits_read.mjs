#!/usr/bin/env node
// The pause a culprits line costs the JavaScript thread (its `read_ms`:
// V8's GetAllocationProfile, gcstats' walk of the tree, the samples read
// for the held bytes, the ranking), for profiles of about 10, 100, 1,000
// and 10,000 allocating sites. Each run is a node under the preload with
// GCSTATS_CULPRITS=always, running bench/culprits_read/sites.js: N
// functions, each on its own line of a generated script, each keeping a
// little of what it allocates, so that the heap leaks and every function
// is a site. The first culprits line ends the run; its nodes, samples and
// read_ms are printed, median over the runs. 1,000 sites and more use a
// sampling interval of 4096 bytes (at 512 KiB they would have a sample
// or two each): the samples V8 keeps grow with it, and so does its own
// part of the pause, which gcstats cannot bound.
//
//   node bench/culprits_read.mjs [--runs=3] [--sites=10,100,1000,10000] [--lib=PATH] [--node=PATH]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options } from './options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opts = options(process.argv.slice(2));
const runs = Number(opts.runs ?? 3);
const counts = String(opts.sites ?? '10,100,1000,10000').split(',').map(Number);
const lib = resolve(opts.lib ?? join(here, '..', 'build', 'libgcstats.so'));
const node = opts.node ?? process.execPath;
if (!existsSync(lib)) throw new Error(`${lib} not found: build first (meson compile -C build)`);
const out = mkdtempSync(join(tmpdir(), 'gcstats-culprits-read-'));

function once(sites, i) {
  return new Promise((res, rej) => {
    const file = join(out, `sites-${sites}-${i}.jsonl`);
    const env = { PATH: process.env.PATH, LD_PRELOAD: lib, GCSTATS_FILE: file, GCSTATS_CULPRITS: 'always',
      GCSTATS_CULPRITS_INTERVAL: sites >= 1000 ? '4096' : '524288', GCSTATS_LEAK_MIN_SPAN: '5',
      SITES: String(sites), OUT: out };
    const child = spawn(node, ['--expose-gc', join(here, 'culprits_read', 'sites.js')], { env, stdio: 'inherit' });
    const started = Date.now();
    const timer = setInterval(() => {
      const line = existsSync(file) && readFileSync(file, 'utf8').split('\n').find((l) => l.includes('"event":"culprits"'));
      if (line || Date.now() - started > 180000) {
        clearInterval(timer);
        child.kill('SIGTERM');
        if (!line) return rej(new Error(`no culprits line in 180 s with ${sites} sites`));
        res(JSON.parse(line));
      }
    }, 200);
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
console.log(`node ${node === process.execPath ? process.version : node}, ${runs} runs per size, the first culprits line of each; raw lines in ${out}\n`);
console.log('| sites in the script | interval | nodes (median) | samples (median) | cut | read_ms (median; min-max) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const sites of counts) {
  const lines = [];
  for (let i = 0; i < runs; i++) lines.push(await once(sites, i));
  const ms = lines.map((l) => l.read_ms);
  console.log(`| ${sites} | ${lines[0].interval_bytes} | ${median(lines.map((l) => l.nodes))} | ${median(lines.map((l) => l.samples))} | ${lines.filter((l) => l.cut).length} of ${runs} | ${median(ms).toFixed(2)}; ${Math.min(...ms).toFixed(2)}-${Math.max(...ms).toFixed(2)} |`);
}
