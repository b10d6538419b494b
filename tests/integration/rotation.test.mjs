// Log rotation by Debian's logrotate, run by the test with its own
// configuration and state file. A full GC every 20 ms gives a stats line
// with the next num_full_gc each time, so lost lines show as gaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, tempDir } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const logrotate = ['/usr/sbin/logrotate', '/sbin/logrotate'].find(existsSync) || 'logrotate';

function read(file) {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
const count = (text) => text.split('\n').length - 1;

async function waitFor(ok, timeoutMs) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(50)) if (ok()) return true;
  return false;
}

// Parses every line; `allowCut` lets the last one be cut short.
function parse(text, allowCut) {
  assert.ok(!text.includes('\0'), 'no hole of NUL bytes');
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  const out = [];
  lines.forEach((line, i) => {
    try { out.push(JSON.parse(line)); } catch (e) {
      if (!(allowCut && i === lines.length - 1)) throw new Error(`not a JSON line: ${line}`);
    }
  });
  return out;
}

// The full GCs the stats lines of a file number, in order, each one after the other.
function gcNumbers(lines, what) {
  const n = lines.filter((l) => l.event === 'stats').map((l) => l.num_full_gc);
  for (let i = 1; i < n.length; i++) assert.equal(n[i], n[i - 1] + 1, `${what}: a gap after num_full_gc ${n[i - 1]}`);
  return n;
}

async function rotateUnder(mode) {
  const dir = tempDir();
  const file = join(dir, 'gc.jsonl');
  const conf = join(dir, 'logrotate.conf');
  writeFileSync(conf, `${file} {\n  ${mode}\n  rotate 1\n  missingok\n}\n`);
  let child;
  const done = run(nodeBin, ['--expose-gc', join(fixtures, 'until_stdin.js')], {
    env: baseEnv({ GCSTATS_FILE: file, GCSTATS_INTERVAL: '0', GC_EVERY_MS: '20' }),
    stdio: ['pipe', 'pipe', 'pipe'],
    onSpawn: (c) => { child = c; },
  });
  assert.ok(await waitFor(() => count(read(file)) >= 10, 20000), 'lines before the rotation');
  const rotated = await run(logrotate, ['-f', '-s', join(dir, 'state'), conf]);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.ok(existsSync(`${file}.1`), 'logrotate rotated the file');
  // gcstats looks at most once a second; give it ten.
  const newLines = await waitFor(() => count(read(file)) >= 10, 10000);
  child.stdin.end();
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.ok(newLines, `lines after the rotation go to the new ${file}`);
  return { old: read(`${file}.1`), now: read(file) };
}

test('logrotate create: later lines in the new file, none lost', async () => {
  const { old, now } = await rotateUnder('create');
  const oldLines = parse(old, false);
  const newLines = parse(now, false);
  const a = gcNumbers(oldLines, 'rotated file');
  const b = gcNumbers(newLines, 'new file');
  assert.ok(a.length > 0 && b.length > 0);
  const exit = newLines[newLines.length - 1];
  assert.equal(exit.event, 'exit', 'the exit line is in the new file');
  // Every full GC's line is in one file or the other, unless counted as dropped.
  assert.ok(b[0] - a[a.length - 1] - 1 <= exit.dropped, `lost between ${a[a.length - 1]} and ${b[0]}, dropped ${exit.dropped}`);
  assert.ok(exit.num_full_gc - b[b.length - 1] <= 1);
});

test('logrotate copytruncate: the file keeps receiving whole lines', async () => {
  const { old, now } = await rotateUnder('copytruncate');
  // The copy may end inside the line being written at that moment, and
  // lines written between the copy and the truncation are in neither file:
  // copytruncate's own loss, which gcstats cannot see or count.
  const oldLines = parse(old, true);
  const newLines = parse(now, false);
  gcNumbers(oldLines, 'copy');
  const b = gcNumbers(newLines, 'truncated file');
  assert.ok(b.length >= 5);
  assert.equal(newLines[newLines.length - 1].event, 'exit');
});

test('moved away with no new file: gcstats creates it (0644 less the umask)', async () => {
  const dir = tempDir();
  const file = join(dir, 'gc.jsonl');
  let child;
  const done = run(nodeBin, ['--expose-gc', join(fixtures, 'until_stdin.js')], {
    env: baseEnv({ GCSTATS_FILE: file, GCSTATS_INTERVAL: '0', GC_EVERY_MS: '20' }),
    stdio: ['pipe', 'pipe', 'pipe'],
    onSpawn: (c) => { child = c; },
  });
  assert.ok(await waitFor(() => count(read(file)) >= 10, 20000), 'lines before the move');
  renameSync(file, `${file}.1`);
  const created = await waitFor(() => count(read(file)) >= 5, 10000);
  child.stdin.end();
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.ok(created, 'a new file at the path, with lines');
  assert.equal(statSync(file).mode & 0o777, 0o644 & ~process.umask());
  const a = gcNumbers(parse(read(`${file}.1`), false), 'moved file');
  const newLines = parse(read(file), false);
  const b = gcNumbers(newLines, 'new file');
  assert.ok(b[0] - a[a.length - 1] - 1 <= newLines[newLines.length - 1].dropped);
});
