// A reader that stops reading never slows the application: lines that
// cannot be written are dropped and counted, and the lines that get
// through afterwards say how many.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, parseLines, byEvent } from './harness.mjs';

const burst = [ '--expose-gc', join(fixtures, 'gc_burst.js') ];
// 600 stats lines of ~1.2 KB: ten times what a pipe and the queue hold.
const BURST = 600;
const env = (extra, opts) => baseEnv({ BURST: String(BURST), ...extra }, opts);

function burstDone(stdout) {
  return JSON.parse(stdout.split('\n')[0]).burstMs >= 0;
}

test('a pipe nobody reads: the application does its whole work and exits', async () => {
  // fd 3 is a pipe whose read end this process holds and never reads. It
  // holds ~60 lines of the 600: a JavaScript thread that blocked on it, or
  // an exit that waited for it, would never finish, and run() fails on its
  // timeout (30 s, 15 times the ~2 s a run takes, so that only a hang trips it;
  // no duration is compared: that is what made this test flaky).
  const stalled = await run(nodeBin, burst, {
    env: env({ GCSTATS_FD: '3' }),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    onSpawn: (child) => child.stdio[3].pause(),
    timeoutMs: 30000,
  });
  assert.equal(stalled.signal, null);
  assert.equal(stalled.code, 0, stalled.stderr);
  assert.ok(burstDone(stalled.stdout), 'the burst of 600 full GCs was finished');
  assert.equal(stalled.stderr, '');
});

test('a reader that stops and comes back sees the drops counted', async () => {
  let collected = '';
  let sawBurst;
  const burstDone = new Promise((resolve) => { sawBurst = resolve; });
  const res = await run(nodeBin, [...burst, 'wait'], {
    env: env({ GCSTATS_FD: '3' }),
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    onSpawn: (child) => {
      const gcPipe = child.stdio[3];
      gcPipe.pause();
      child.stdout.on('data', async () => {
        sawBurst();
      });
      burstDone.then(() => {
        gcPipe.setEncoding('utf8');
        gcPipe.on('data', (d) => { collected += d; });
        gcPipe.resume();
        child.stdin.write('go\n');
      });
    },
  });
  assert.equal(res.code, 0, res.stderr);
  const lines = parseLines(collected);
  const stats = byEvent(lines, 'stats');
  const exit = byEvent(lines, 'exit');
  assert.equal(exit.length, 1);
  assert.ok(exit[0].dropped > 0, 'the exit line counts the dropped lines');
  assert.ok(stats.length < BURST + 5, `${stats.length} stats lines: some must have been dropped`);
  // Counters are cumulative, so nothing is lost from them.
  assert.equal(exit[0].num_full_gc >= BURST + 5, true, `num_full_gc ${exit[0].num_full_gc}`);
  const last = stats[stats.length - 1];
  assert.ok(last.dropped > 0);
  assert.ok(last.num_full_gc >= BURST + 5);
  // Drops are monotonic and lines + drops account for every full GC's line.
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i].dropped >= lines[i - 1].dropped);
  const statsLinesTotal = stats.length + exit[0].dropped;
  assert.ok(statsLinesTotal >= exit[0].num_full_gc, `${stats.length} lines + ${exit[0].dropped} dropped < ${exit[0].num_full_gc} GCs`);
});
