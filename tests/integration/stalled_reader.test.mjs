// A reader that stops reading never slows the application: lines that
// cannot be written are dropped and counted, and the lines that get
// through afterwards say how many.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openSync, writeSync, readSync, closeSync, constants } from 'node:fs';
import { fixtures, nodeBin, run, baseEnv, parseLines, byEvent, tempDir } from './harness.mjs';

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

// `node -e 0` ends before any wait or GC, so no writer thread is ever
// made: the exiting thread writes the start and exit lines itself.
function makeFifo() {
  const fifo = join(tempDir(), 'gc.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);   // blocking, as node's children get it
  return { fifo, reader, writer };
}

function readAll(fd) {
  const buf = Buffer.alloc(1 << 20);
  let got = 0;
  for (;;) {
    let n = 0;
    try { n = readSync(fd, buf, got, buf.length - got, null); } catch (e) { assert.equal(e.code, 'EAGAIN'); }
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

test('a full FIFO at an exit that writes its own lines: the exit does not wait for ever, the lines are dropped', async () => {
  // The FIFO is full and this process does not read it while node runs.
  // A blocking write() there would wait for ever: run() fails on its
  // timeout (only a hang trips it; no duration is compared).
  const { fifo, reader, writer } = makeFifo();
  const filler = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const chunk = Buffer.alloc(4096, 'x');
  let filled = 0;
  for (;;) {
    try { filled += writeSync(filler, chunk); } catch (e) { assert.equal(e.code, 'EAGAIN'); break; }
  }
  closeSync(filler);
  assert.ok(filled >= 4096, `${filled} bytes fill the pipe`);
  const res = await run(nodeBin, ['-e', '0'], {
    env: baseEnv({ GCSTATS_FD: '3' }),
    stdio: ['ignore', 'pipe', 'pipe', writer],
    timeoutMs: 30000,
  });
  closeSync(writer);
  assert.equal(res.signal, null);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '');
  // Nothing but the filler came through: no part of a line either.
  const got = readAll(reader);
  closeSync(reader);
  assert.equal(got.length, filled);
  assert.equal(got.toString().replaceAll('x', ''), '');
});

test('a FIFO with room at an exit that writes its own lines: both lines come whole', async () => {
  const { reader, writer } = makeFifo();
  const res = await run(nodeBin, ['-e', '0'], {
    env: baseEnv({ GCSTATS_FD: '3' }),
    stdio: ['ignore', 'pipe', 'pipe', writer],
  });
  closeSync(writer);
  assert.equal(res.code, 0, res.stderr);
  const lines = parseLines(readAll(reader).toString());
  closeSync(reader);
  assert.deepEqual(lines.map((l) => l.event), ['start', 'exit']);
  assert.equal(lines[1].dropped, 0);
});

test('an anonymous pipe with room at an exit that writes its own lines: both lines come whole', async () => {
  // node's fd 3 is a shell pipe to cat, whose output is the shell's stdout.
  const res = await run('/bin/sh', ['-c', `"$NODE" -e 0 3>&1 >/dev/null | cat`], {
    env: baseEnv({ GCSTATS_FD: '3', NODE: nodeBin }),
  });
  assert.equal(res.code, 0, res.stderr);
  const lines = parseLines(res.stdout);
  assert.deepEqual(lines.map((l) => l.event), ['start', 'exit']);
  assert.equal(lines[1].dropped, 0);
});

test('a socket with room at an exit that writes its own lines: both lines come whole', async () => {
  // node's 'pipe' stdio is a socket pair.
  let text = '';
  const res = await run(nodeBin, ['-e', '0'], {
    env: baseEnv({ GCSTATS_FD: '3' }),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    onSpawn: (child) => { child.stdio[3].setEncoding('utf8').on('data', (d) => { text += d; }); },
  });
  assert.equal(res.code, 0, res.stderr);
  const lines = parseLines(text);
  assert.deepEqual(lines.map((l) => l.event), ['start', 'exit']);
  assert.equal(lines[1].dropped, 0);
});
