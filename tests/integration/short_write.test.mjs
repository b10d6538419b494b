// A write cut short (RLIMIT_FSIZE here; a full disk alike) leaves at most
// one fragment of a line, which gcstats ends with a newline before any
// later line, and the cut line is counted in `dropped`.
//
// node runs under a soft RLIMIT_FSIZE: the writer thread blocks every
// signal, so SIGXFSZ does not kill it and write() returns what fitted, then
// EFBIG. Once a line has been cut, the test raises the limit of the running
// process (prlimit --pid) and lets later lines through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, tempDir } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const size = (f) => (existsSync(f) ? statSync(f).size : 0);

async function waitFor(what, ok, timeoutMs = 20000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(20)) if (ok()) return;
  throw new Error(`timed out waiting for ${what}`);
}

async function runUnderLimit(limit) {
  const file = join(tempDir(), 'gc.jsonl');
  let child;
  const done = run('prlimit', [`--fsize=${limit}:`, nodeBin, join(fixtures, 'until_stdin.js')], {
    env: baseEnv({ GCSTATS_FILE: file, GCSTATS_INTERVAL: '0.05' }),
    stdio: ['pipe', 'pipe', 'pipe'],
    onSpawn: (c) => { child = c; },   // prlimit execs node: same pid
  });
  await waitFor('the file to reach the limit', () => size(file) >= limit);
  await sleep(300);   // more ticks fail with EFBIG while the limit holds
  const raised = await run('prlimit', ['--pid', String(child.pid), '--fsize=unlimited:']);
  assert.equal(raised.code, 0, raised.stderr);
  await waitFor('lines after the limit', () => size(file) > limit + 3000);
  child.stdin.end();
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  return { text: readFileSync(file, 'utf8'), limit };
}

test('a line cut by RLIMIT_FSIZE: one fragment, ended before the next line, counted as dropped', async () => {
  // A limit that falls exactly between two lines cuts none: then one byte
  // more cannot (no line is one byte long).
  let got;
  for (const limit of [6000, 6001]) {
    got = await runUnderLimit(limit);
    if (got.text[limit - 1] !== '\n') break;
  }
  const { text, limit } = got;
  assert.notEqual(text[limit - 1], '\n', 'no line was cut at either limit');
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a whole line');
  const fragments = [];
  const parsed = lines.map((line, i) => {
    try { return JSON.parse(line); } catch { fragments.push(i); return null; }
  });
  assert.equal(fragments.length, 1, `one fragment, got ${fragments.length}`);
  const at = fragments[0];
  const fragment = lines[at];
  // Begins as every line begins (the cut may fall inside '{"event":').
  const head = '{"event":';
  assert.ok(fragment.length > 0 && fragment.startsWith(head.slice(0, Math.min(head.length, fragment.length))),
    `the fragment is the start of a line: ${fragment.slice(0, 40)}`);
  assert.equal(fragment.indexOf('{"event":', 1), -1, `a second line is glued to the fragment: ${fragment}`);
  assert.equal(lines.slice(0, at + 1).join('\n').length, limit, 'the fragment ends at the limit');
  assert.ok(at > 0 && at < lines.length - 3, 'whole lines before and after it');
  const before = parsed[at - 1];
  const after = parsed[at + 1];
  assert.ok(after.dropped >= before.dropped + 1, `dropped ${before.dropped} before, ${after.dropped} after`);
  const exit = parsed[parsed.length - 1];
  assert.equal(exit.event, 'exit');
  assert.ok(exit.dropped >= 1);
});
