// Every symbol gcstats binds (src/v8symbols.h, listed by the
// v8symbols_dump helper of this build) is in the dynamic symbol table of
// the official arm64 build of each node major, under the same mangled
// name, read with the cross binutils (node is not run). Run from the
// aarch64 cross build (scripts/cross-aarch64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { arm64Nodes } from '../../scripts/arm64-nodes.mjs';
import { runHost, v8MajorOf } from './cross.mjs';

const { GCSTATS_CROSS_NM: nm, GCSTATS_CROSS_READELF: readelf } = process.env;
if (!nm || !readelf) throw new Error('GCSTATS_CROSS_NM and GCSTATS_CROSS_READELF must name the cross binutils (tests/meson.build sets them)');
const bound = JSON.parse(runHost(process.env.GCSTATS_V8SYMBOLS_DUMP));

// The names defined in a binary's dynamic symbol table.
function exported(binary) {
  const header = execFileSync(readelf, ['-h', binary], { encoding: 'utf8' });
  assert.match(header, /Machine:\s+AArch64/, `${binary} is not an arm64 build`);
  const out = execFileSync(nm, ['-D', '--defined-only', binary], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return new Set(out.split('\n').map((l) => l.split(' ').pop()).filter(Boolean));
}

test('the helper lists what gcstats binds', () => {
  assert.ok(bound.required.length >= 8, JSON.stringify(bound));
  assert.equal(bound.required[0], '_ZN2v82V810GetVersionEv');
  assert.ok(bound.optional.length >= 1, JSON.stringify(bound));
});

for (const build of arm64Nodes()) {
  test(`node ${build.version} (arm64) exports every symbol gcstats binds`, () => {
    const names = exported(build.node);
    const v8Major = v8MajorOf(build.include);
    const missing = bound.required.filter((s) => !names.has(s));
    assert.deepEqual(missing, [], 'required symbols missing');
    const missingOptional = bound.optional
      .filter((s) => !names.has(s.name) && (s.up_to_v8 === 0 || v8Major <= s.up_to_v8) &&
        (s.from_v8 ?? 0) <= v8Major)
      .map((s) => s.name);
    assert.deepEqual(missingOptional, [], `optional symbols missing from V8 ${v8Major}`);
  });
}
