// A V8 that gcstats cannot bind (a symbol it needs is not exported) is
// reported once, in an error line that names the missing symbol, and the
// program runs on untouched. A program with no V8 at all gets no line:
// that is every shell and compiler that inherits LD_PRELOAD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, baseEnv, tempDir, parseLines, byEvent } from './harness.mjs';

const fakeV8 = process.env.GCSTATS_FAKE_V8;
const noV8 = process.env.GCSTATS_EPOLL_MMAP;

function linesOf(file) {
  return existsSync(file) ? parseLines(readFileSync(file, 'utf8')) : [];
}

test('only v8::V8::GetVersion exported: one error line naming a missing symbol', async () => {
  const file = join(tempDir(), 'gc.jsonl');
  const without = await run(fakeV8, [], { env: baseEnv({}, { preload: false }) });
  assert.equal(without.code, 3);
  assert.match(without.stdout, /fake v8 12\.4\.254\.21-fake/);
  const res = await run(fakeV8, [], { env: baseEnv({ GCSTATS_FILE: file }) });
  for (const key of ['code', 'signal', 'stdout', 'stderr']) assert.equal(res[key], without[key], key);
  const lines = linesOf(file);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  const [error] = byEvent(lines, 'error');
  assert.ok(error, JSON.stringify(lines));
  assert.equal(error.pid, res.child.pid);
  // Loosely: the word, or the missing symbol itself (mangled or not).
  assert.match(error.reason, /symbol|_ZN2v8\w+|v8::\w+/);
  assert.doesNotMatch(error.reason, /GetVersion/, 'the symbol it names is one that is missing');
});

test('no V8 at all: nothing written', async () => {
  const file = join(tempDir(), 'gc.jsonl');
  const without = await run(noV8, [], { env: baseEnv({}, { preload: false }) });
  const res = await run(noV8, [], { env: baseEnv({ GCSTATS_FILE: file }) });
  for (const key of ['code', 'signal', 'stdout', 'stderr']) assert.equal(res[key], without[key], key);
  assert.deepEqual(linesOf(file), []);
});
