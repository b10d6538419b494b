// `gcstats tail` on lines a real run wrote: followed like tail -F through
// a file not there yet, a line written in two pieces, rotation by rename
// and truncation; bad lines named by file and line; colours only on a
// terminal and never with NO_COLOR. Nothing here measures time: each step
// waits for the output it expects, with a deadline only against a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, tempDir, watchOutput } from './harness.mjs';

const gcstats = process.env.GCSTATS_CMD;
if (!gcstats || !existsSync(gcstats)) throw new Error(`GCSTATS_CMD must name the built gcstats command (got ${gcstats})`);
const plainEnv = (extra = {}) => baseEnv(extra, { preload: false });
const HANG_GUARD_MS = 60000;

// One real run's lines: a heap leak, reported after a few seconds (the
// detector's minimum span is 3 s here) and going on to the end, so that
// its leak line comes however slow the machine is.
let recorded;
async function realLines() {
  if (recorded) return recorded;
  const dir = tempDir();
  const file = join(dir, 'gc.jsonl');
  const res = await run(gcstats, ['run', '--file', file, '--leak-min-span', '3', '--interval', '1', '--',
    nodeBin, '--expose-gc', join(fixtures, 'leak_then_stop.js'), 'heap', 'Infinity', '8000'], { env: plainEnv() });
  assert.equal(res.code, 0, res.stderr);
  recorded = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  assert.ok(recorded.some((l) => JSON.parse(l).event === 'leak'), 'the run reported its leak');
  return recorded;
}

// A line of the run with its pid replaced by a marker: each written line
// can then be found in the output by "pid MARKER".
function marked(line, marker) {
  const parsed = JSON.parse(line);
  parsed.pid = marker;
  return JSON.stringify(parsed) + '\n';
}

// A running `gcstats tail` whose output is gathered (see watchOutput).
function follow(args, env = plainEnv()) {
  const child = spawn(gcstats, ['tail', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...watchOutput(child, 'gcstats tail', HANG_GUARD_MS), stop() { child.kill('SIGTERM'); } };
}

const shows = (marker) => (s) => s.stdout.includes(` pid ${marker} `);

test('tail -F: a file not there yet, a line in two pieces, rotation by rename, truncation, bad lines', async () => {
  const lines = await realLines();
  const start = lines.find((l) => JSON.parse(l).event === 'start');
  const stats = lines.find((l) => JSON.parse(l).event === 'stats');
  const leak = lines.find((l) => JSON.parse(l).event === 'leak');
  assert.ok(start && stats && leak, 'the run wrote start, stats and leak lines');
  const dir = tempDir();
  const log = join(dir, 'app.jsonl');
  const side = join(dir, 'side.jsonl');
  writeFileSync(side, '');
  const tail = follow([log, side]);
  try {
    await tail.until('that the log is missing', (s) => s.stderr.includes(`${log}: No such file or directory; waiting for it`));
    writeFileSync(log, marked(start, 1001));
    await tail.until('the first line of a file that appeared', shows(1001));
    assert.match(tail.seen.stdout, new RegExp(`^${log}: \\d\\d:\\d\\d:\\d\\d\\.\\d{3} pid 1001 iso 1 start    node `, 'm'));

    // half a line: not shown, not an error, until its end comes. The side
    // file is read after the log in every round, so once two marks written
    // after the half have shown, the half has been read.
    const half = marked(stats, 1002);
    appendFileSync(log, half.slice(0, 200));
    appendFileSync(side, marked(start, 2001));
    await tail.until('the first side mark', shows(2001));
    appendFileSync(side, marked(start, 2002));
    await tail.until('the second side mark', shows(2002));
    assert.equal(shows(1002)(tail.seen), false, 'half a line shown');
    assert.doesNotMatch(tail.seen.stderr, /not JSON/);
    appendFileSync(log, half.slice(200));
    await tail.until('the line whose end came', shows(1002));
    assert.match(tail.seen.stdout, / pid 1002 iso 1 stats    heap [\d.]+ [kMG]?B trend [+-][\d.]+% ext /);

    // a bad line: named by file and line (the log's 3rd), and the next one still shown
    appendFileSync(log, 'this is not json\n' + marked(leak, 1003));
    await tail.until('the line after a bad one', shows(1003));
    await tail.until('the bad line named', (s) => s.stderr.includes(`${log}:3: not JSON\n`));
    assert.match(tail.seen.stdout, / pid 1003 iso 1 leak     the V8 heap after full GCs grew by /);

    // rotation by rename: the old file's last line, then the new file's
    renameSync(log, log + '.1');
    appendFileSync(log + '.1', marked(stats, 1004));
    await tail.until('a line written to the renamed file', shows(1004));
    writeFileSync(log, marked(start, 1005));
    await tail.until('the first line of the new file', shows(1005));
    assert.match(tail.seen.stderr, /has been replaced; following the new file/);

    // truncation (copytruncate): read again from the start
    appendFileSync(log, marked(stats, 1006) + marked(stats, 1007));
    await tail.until('the lines before truncation', shows(1007));
    truncateSync(log, 0);
    await tail.until('that the file was truncated', (s) => s.stderr.includes(`${log}: file truncated`));
    appendFileSync(log, 'junk\n' + marked(start, 1008));
    await tail.until('the first line after truncation', shows(1008));
    // line numbers start again
    await tail.until('the bad line named', (s) => s.stderr.includes(`${log}:1: not JSON\n`));
    const shown = [...tail.seen.stdout.matchAll(/ pid (\d+) /g)].map((m) => Number(m[1])).sort();
    assert.deepEqual(shown, [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 2001, 2002], 'each line shown once');
  } finally {
    tail.stop();
  }
});

test('tail -n: the last N lines of a file first (a bad one among them), with their true line numbers', async () => {
  const lines = await realLines();
  const dir = tempDir();
  const log = join(dir, 'app.jsonl');
  const body = lines.slice(0, 5).map((l, i) => marked(l, 3001 + i)).join('') + 'garbage\n' + marked(lines[5], 3006);
  writeFileSync(log, body);
  const tail = follow(['-n', '3', log]);
  try {
    await tail.until('the last line', shows(3006));
    await tail.until('the bad line named', (s) => s.stderr.includes(`${log}:6: not JSON\n`));
    assert.deepEqual([...tail.seen.stdout.matchAll(/ pid (\d+) /g)].map((m) => Number(m[1])), [3005, 3006]);
  } finally {
    tail.stop();
  }
});

test('tail of standard input: every line, then it ends; a cut last line is reported', async () => {
  const lines = await realLines();
  const dir = tempDir();
  const log = join(dir, 'cut.jsonl');
  writeFileSync(log, lines.join('\n') + '\n' + lines[1].slice(0, 50));
  const res = await run('sh', ['-c', `"${gcstats}" tail < "${log}"`], { env: plainEnv() });
  assert.equal(res.code, 0);
  assert.equal(res.stdout.trimEnd().split('\n').length, lines.length, 'one text line per JSON line');
  assert.equal(res.stderr, `stdin:${lines.length + 1}: not JSON\n`);
  assert.doesNotMatch(res.stdout, /\x1b/, 'no colours into a pipe');
  assert.match(res.stdout, / leak     the V8 heap after full GCs grew by /);
});

// A terminal from script(1) (util-linux), with gcstats tail reading the
// log on its standard input.
async function onTerminal(log, env) {
  const res = await run('script', ['-q', '-e', '-c', `"${gcstats}" tail < "${log}"`, '/dev/null'], { env });
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

test('colours on a terminal, never with NO_COLOR', async () => {
  const lines = await realLines();
  const dir = tempDir();
  const log = join(dir, 'gc.jsonl');
  writeFileSync(log, lines.join('\n') + '\n');
  const coloured = await onTerminal(log, plainEnv({ TERM: 'xterm' }));
  assert.match(coloured, /\x1b\[1;31mleak/, 'a leak stands out');
  assert.match(coloured, /verdict \x1b\[1;31mleak \(heap, /, 'and so does the verdict');
  const plain = await onTerminal(log, plainEnv({ TERM: 'xterm', NO_COLOR: '1' }));
  assert.doesNotMatch(plain, /\x1b/);
  assert.match(plain, / leak     the V8 heap/);
  // NO_COLOR set but empty does not count (no-color.org)
  assert.match(await onTerminal(log, plainEnv({ TERM: 'xterm', NO_COLOR: '' })), /\x1b\[1;31mleak/);
});

test('tail: a bad option is exit status 2', async () => {
  const res = await run(gcstats, ['tail', '-n', 'many'], { env: plainEnv() });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /-n many is not a number of lines/);
});
