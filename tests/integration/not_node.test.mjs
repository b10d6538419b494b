// Processes that are not node run exactly as without the library: same
// output, same exit code, nothing written, even with every setting given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, baseEnv, tempDir } from './harness.mjs';

const programs = [
  ['sh', ['-c', 'true']],
  ['sh', ['-c', 'echo out; echo err >&2; exit 3']],
  ['python3', ['-c', '1']],
  ['python3', ['-c', 'import sys, mmap; m = mmap.mmap(-1, 1 << 20); print(len(m)); sys.exit(5)']],
  [process.env.GCSTATS_EPOLL_MMAP, []],
];

for (const [cmd, args] of programs) {
  test(`${cmd.split('/').pop()} ${args.join(' ')}`.trim(), async () => {
    const dir = tempDir();
    const file = join(dir, 'gc-%p.jsonl');
    const without = await run(cmd, args, { env: baseEnv({}, { preload: false }) });
    const withLib = await run(cmd, args, { env: baseEnv({ GCSTATS_INTERVAL: '0.01' }) });
    const withFile = await run(cmd, args, { env: baseEnv({ GCSTATS_FILE: file }) });
    const fdPath = join(dir, 'fd.out');
    const fd = openSync(fdPath, 'w');
    const withFd = await run(cmd, args, { env: baseEnv({ GCSTATS_FD: '3' }), stdio: ['ignore', 'pipe', 'pipe', fd] });
    closeSync(fd);
    for (const r of [withLib, withFile, withFd]) {
      assert.equal(r.code, without.code);
      assert.equal(r.signal, without.signal);
      assert.equal(r.stdout, without.stdout);
      assert.equal(r.stderr, without.stderr);
    }
    assert.equal(readFileSync(fdPath, 'utf8'), '');
    assert.ok(!existsSync(join(dir, `gc-${withFile.child.pid}.jsonl`)));
  });
}

// The library does not bring libunwind (nor the liblzma it needs) into a
// process: only node's writer thread loads it, later (src/stackwalk.c).
test('a process that is not node loads nothing more than the library', async () => {
  const r = await run('cat', ['/proc/self/maps'], { env: baseEnv() });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /libgcstats\.so/);
  assert.doesNotMatch(r.stdout, /libunwind|liblzma/);
});
