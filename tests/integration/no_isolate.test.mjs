// node commands that start no isolate (they print and exit before any
// JavaScript runs) are left exactly as they are: no line at all with the
// default settings, and no file written with GCSTATS_FILE. Today each
// wrote an exit line with empty counters to stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBin, run, baseEnv, tempDir } from './harness.mjs';

const commands = [
  ['--version'],
  ['--v8-options'],
  ['--no-such-option'],   // node: bad option, exit 9
];

for (const args of commands) {
  test(`node ${args.join(' ')}`, async () => {
    const without = await run(nodeBin, args, { env: baseEnv({}, { preload: false }) });
    const withLib = await run(nodeBin, args, { env: baseEnv() });
    for (const key of ['code', 'signal', 'stdout', 'stderr']) assert.equal(withLib[key], without[key], key);
    const file = join(tempDir(), 'gc.jsonl');
    const withFile = await run(nodeBin, args, { env: baseEnv({ GCSTATS_FILE: file }) });
    for (const key of ['code', 'signal', 'stdout', 'stderr']) assert.equal(withFile[key], without[key], key);
    assert.ok(!existsSync(file) || readFileSync(file, 'utf8') === '', `${file} holds lines`);
  });
}

test('node --no-such-option exits 9', async () => {
  // The comparison above is only as good as its reference: make sure the
  // bad option is the failing path it is meant to be.
  const res = await run(nodeBin, ['--no-such-option'], { env: baseEnv() });
  assert.equal(res.code, 9);
});
