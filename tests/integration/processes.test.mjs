// Every node process of a tree reports, to one shared destination, with
// every line whole: cluster workers, spawned node, node exec'd by a shell.
// Shells and python3 in the same tree write nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, tempDir, parseLines, byEvent } from './harness.mjs';

const script = ['--expose-gc', join(fixtures, 'processes.js')];

function check(res, lines) {
  assert.equal(res.code, 0, res.stderr);
  const pids = JSON.parse(res.stdout.trim().split('\n').pop());
  assert.equal(pids.node.length, 6);
  assert.equal(new Set(pids.node).size, 6);
  for (const pid of pids.node) {
    const mine = lines.filter((l) => l.pid === pid);
    assert.equal(byEvent(mine, 'start').length, 1, `start of ${pid}`);
    assert.equal(byEvent(mine, 'exit').length, 1, `exit of ${pid}`);
    assert.ok(byEvent(mine, 'stats').length >= 1, `stats of ${pid}`);
  }
  for (const pid of pids.other) assert.equal(lines.filter((l) => l.pid === pid).length, 0);
  assert.deepEqual([...new Set(lines.map((l) => l.pid))].sort(), [...pids.node].sort());
}

test('one shared file (GCSTATS_FILE without %p)', async () => {
  const path = join(tempDir(), 'all.jsonl');
  const res = await run(nodeBin, script, { env: baseEnv({ GCSTATS_FILE: path }) });
  check(res, parseLines(readFileSync(path, 'utf8')));
});

test('one shared pipe (GCSTATS_FD=3)', async () => {
  let text = '';
  const res = await run(nodeBin, script, {
    env: baseEnv({ GCSTATS_FD: '3' }),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    onSpawn: (child) => child.stdio[3].setEncoding('utf8').on('data', (d) => { text += d; }),
  });
  // The pipe's write end lives on in no process once all have exited.
  check(res, parseLines(text));
});
