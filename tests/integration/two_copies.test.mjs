// Two different copies of the library preloaded at once (a copy under
// another path, as a container image and a user's LD_PRELOAD might both
// bring): the second to start stands aside with one error line, the first
// reports as usual, and node runs as without either. It hung forever in
// `node -e 1` before (two sets of interposers and writer threads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lib, nodeBin, run, baseEnv, tempDir, parseLines, byEvent } from './harness.mjs';

// A main isolate and one Worker, each with forced full GCs.
const script = [
  '--expose-gc', '-e',
  `const { Worker } = require('node:worker_threads');
   gc(); gc();
   new Worker('gc(); gc();', { eval: true }).on('exit', () => console.log('done', process.pid > 0));`,
];

const dir = tempDir();
const copy = join(dir, 'copy.so');
copyFileSync(lib, copy);

for (const [name, preload] of [['built copy first', `${lib} ${copy}`], ['other copy first', `${copy} ${lib}`]]) {
  test(`two copies preloaded, ${name}`, async () => {
    const file = join(dir, `${name.replace(/ /g, '-')}.jsonl`);
    const without = await run(nodeBin, script, { env: baseEnv({}, { preload: false }) });
    // Far above the ~0.2 s a run takes: a hang fails instead of blocking.
    const res = await run(nodeBin, script, {
      env: { ...baseEnv({ GCSTATS_FILE: file }), LD_PRELOAD: preload },
      timeoutMs: 30000,
    });
    assert.equal(res.signal, null);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, without.stdout);
    const lines = existsSync(file) ? parseLines(readFileSync(file, 'utf8')) : [];
    // The standing-aside copy may say so where it would have written, or
    // on stderr: either way once, and nothing else on stderr.
    const stderrLines = parseLines(res.stderr);
    const errors = [...byEvent(lines, 'error'), ...byEvent(stderrLines, 'error')];
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0].reason, /another copy/);
    assert.equal(stderrLines.length - byEvent(stderrLines, 'error').length, 0, res.stderr);
    // The reporting copy's lines, once per isolate: not doubled.
    const starts = byEvent(lines, 'start');
    assert.deepEqual(starts.map((l) => l.isolate).sort(), [1, 2]);
    assert.equal(byEvent(lines, 'exit').length, 1);
    assert.equal(byEvent(lines, 'end').length, 1);
    for (const isolate of [1, 2]) {
      const counts = byEvent(lines, 'stats').filter((l) => l.isolate === isolate).map((l) => l.num_full_gc);
      assert.ok(counts.length >= 2, `isolate ${isolate}: ${counts.length} stats lines`);
      assert.deepEqual(counts, [...new Set(counts)], `isolate ${isolate}: a full GC reported twice`);
    }
  });
}
