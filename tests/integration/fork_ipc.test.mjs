// A fork() child inherits GCSTATS_FD from its parent, but its fd 3 is its
// IPC channel: gcstats must never write there. Both processes report, to
// the destination the parent was given, and the channel carries only the
// application's messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, tempDir, parseLines, byEvent, runNodeWithLines } from './harness.mjs';

function checkMessages(res) {
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout);
  assert.equal(out.code, 0, 'the child received exactly what the parent sent');
  const fromChild = out.got.filter((m) => 'fromChild' in m).map((m) => m.fromChild);
  const echoes = out.got.filter((m) => 'echo' in m);
  assert.deepEqual(fromChild, [...Array(50).keys()]);
  assert.deepEqual(echoes.map((m) => m.echo), [...Array(50).keys()]);
  assert.ok(echoes.every((m) => m.pad === 'p'.repeat(m.echo * 10)));
  const done = out.got.filter((m) => m.childDone);
  assert.equal(done.length, 1);
  assert.equal(out.got.length, 101, 'no message other than the application\'s');
  return out;
}

function checkBothReport(lines, parentPid, childPid) {
  for (const pid of [parentPid, childPid]) {
    const mine = lines.filter((l) => l.pid === pid);
    assert.equal(byEvent(mine, 'start').length, 1, `start line of ${pid}`);
    assert.equal(byEvent(mine, 'exit').length, 1, `exit line of ${pid}`);
    assert.ok(byEvent(mine, 'stats').length >= 1, `stats lines of ${pid}`);
  }
}

test('GCSTATS_FD=3: the child writes where the parent writes, not into its IPC channel', async () => {
  const dir = tempDir();
  const path = join(dir, 'fd3.jsonl');
  const fd = openSync(path, 'a');
  const res = await run(nodeBin, ['--expose-gc', join(fixtures, 'fork_ipc.js')], {
    env: baseEnv({ GCSTATS_FD: '3' }),
    stdio: ['ignore', 'pipe', 'pipe', fd],
  });
  closeSync(fd);
  const out = checkMessages(res);
  const lines = parseLines(readFileSync(path, 'utf8'));
  checkBothReport(lines, res.child.pid, out.childPid);
  const parentStart = lines.find((l) => l.event === 'start' && l.pid === res.child.pid);
  assert.equal(parentStart.settings.destination, 'fd:3');
});

test('GCSTATS_FD naming the child\'s own IPC channel is refused in the child', async () => {
  // The parent writes to fd 4; the child is forked with GCSTATS_FD=3 in its
  // environment on purpose, which in the child is the IPC channel.
  const dir = tempDir();
  const path = join(dir, 'fd4.jsonl');
  const fd = openSync(path, 'a');
  const res = await run(nodeBin, ['--expose-gc', '-e', `
    process.env.GCSTATS_FD = '3';
    require(${JSON.stringify(join(fixtures, 'fork_ipc.js'))});
  `], { env: baseEnv({ GCSTATS_FD: '4' }), stdio: ['ignore', 'pipe', 'pipe', 'ignore', fd] });
  closeSync(fd);
  checkMessages(res);
  assert.match(res.stderr, /GCSTATS_FD=3 is this process's IPC channel/);
  const errLines = res.stderr.split('\n').filter((l) => l.startsWith('{'));
  assert.equal(errLines.length, 1);
  assert.equal(JSON.parse(errLines[0]).event, 'error');
});

test('GCSTATS_FILE: parent and child append to one file', async () => {
  const res = await runNodeWithLines(['--expose-gc', join(fixtures, 'fork_ipc.js')]);
  const out = checkMessages(res);
  checkBothReport(res.lines, res.child.pid, out.childPid);
});
