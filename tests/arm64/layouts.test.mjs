// The V8 structs and vtable gcstats reads are laid out alike on aarch64
// and x86-64 (both LP64; aarch64's C++ ABI is Itanium's but for pointers
// to member functions). The headers checker (tests/helpers/v8headers.cc)
// is compiled against each arm64 node build's own headers twice, by the
// cross compiler (run under qemu-user) and by the build machine's g++:
// both must print the same facts, the ones the headers test checks
// gcstats' table against on x86-64. The arm64 build of gcstats must also
// decode the HeapStatistics the arm64 checker laid out. Node is not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arm64Nodes } from '../../scripts/arm64-nodes.mjs';
import { runHost, v8MajorOf } from './cross.mjs';

const checker = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'v8headers.cc');
const crossCxx = (process.env.GCSTATS_CROSS_CXX || '').split(' ').filter(Boolean);
if (!crossCxx.length) throw new Error('GCSTATS_CROSS_CXX must name the cross C++ compiler (tests/meson.build sets it)');
const dump = process.env.GCSTATS_V8FACTS_DUMP;

// Compiles the checker against includeDir; returns the program.
function compile(cxx, extra, includeDir, out) {
  const errors = [];
  // V8 13 and later need C++20; older headers build with either.
  for (const std of ['c++20', 'c++17']) {
    const r = spawnSync(cxx[0], [...cxx.slice(1), `-std=${std}`, '-O0', ...extra, '-I', includeDir, checker, '-o', out],
      { encoding: 'utf8' });
    if (r.error) throw new Error(`${cxx[0]} could not be run (${r.error.message}): install it (scripts/install-deps)`);
    if (r.status === 0) return out;
    errors.push(`${cxx.join(' ')} -std=${std}:\n${r.stderr}`);
  }
  throw new Error(`v8headers.cc did not compile against ${includeDir}:\n${errors.join('\n')}`);
}

for (const build of arm64Nodes()) {
  test(`node ${build.version}: V8's layouts on aarch64 are those on x86-64`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcstats-arm64-'));
    // Static: the cross libstdc++ is not where qemu's loader looks.
    const onArm = JSON.parse(runHost(compile(crossCxx, ['-static'], build.include, join(dir, 'v8headers-aarch64'))));
    const onX64 = JSON.parse(execFileSync(compile(['g++'], [], build.include, join(dir, 'v8headers-x86_64')), { encoding: 'utf8' }));
    assert.equal(onArm.v8_version.split('.')[0], String(v8MajorOf(build.include)));
    assert.ok(onArm.measure_memory_delegate.virtuals > 0, 'the checker found the delegate\'s vtable on aarch64');
    assert.deepEqual(onArm, onX64);

    const v8Major = v8MajorOf(build.include);
    const decoded = JSON.parse(runHost(dump, ['decode', String(v8Major), onArm.heap_statistics.bytes]));
    assert.deepEqual(decoded, onArm.heap_statistics.values);
  });
}
