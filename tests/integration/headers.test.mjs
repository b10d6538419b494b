// The table of V8 facts in src/v8layout.c against the headers of the V8
// in the node under test: a C++ program (tests/helpers/v8headers.cc),
// compiled here against that node's include/node, prints what the headers
// say (struct sizes and offsets, enum values, the MeasureMemoryDelegate
// vtable), and tests/helpers/v8facts_dump.c prints the table's row for
// that V8 major. They must agree, and gcstats' decoder must read a
// HeapStatistics laid out by the headers field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { here, nodeBin, nodeMajor, tempDir, baseEnv } from './harness.mjs';

const dump = process.env.GCSTATS_V8FACTS_DUMP;
if (!dump || !existsSync(dump)) throw new Error(`GCSTATS_V8FACTS_DUMP must name the built v8facts_dump (got ${dump})`);

// Official builds keep their headers beside the binary; Debian's nodejs
// (and the matrix's wrapper that runs it) has none there.
const includeDir = resolve(dirname(realpathSync(nodeBin)), '..', 'include', 'node');
const noHeaders = existsSync(join(includeDir, 'v8-statistics.h'))
  ? false
  : `no V8 headers at ${includeDir} (a build without them beside the binary, such as Debian's nodejs: nothing to check against)`;

const versions = JSON.parse(execFileSync(nodeBin, ['-p', 'JSON.stringify(process.versions)'],
  { env: baseEnv({}, { preload: false }), encoding: 'utf8' }));
const v8Major = Number(versions.v8.split('.')[0]);

// What the headers say, compiled and run once for both tests.
let headersSay;
function readHeaders() {
  headersSay ??= JSON.parse(execFileSync(compileChecker(), { encoding: 'utf8' }));
  return headersSay;
}

function compileChecker() {
  const out = join(tempDir(), 'v8headers');
  const errors = [];
  // V8 13 and later need C++20; older headers build with either.
  for (const std of ['c++20', 'c++17']) {
    const r = spawnSync('g++', [`-std=${std}`, '-O0', '-I', includeDir, join(here, '..', 'helpers', 'v8headers.cc'), '-o', out],
      { encoding: 'utf8' });
    if (r.error) throw new Error(`g++ could not be run (${r.error.message}): install g++ (scripts/install-deps)`);
    if (r.status === 0) return out;
    errors.push(`-std=${std}:\n${r.stderr}`);
  }
  throw new Error(`v8headers.cc did not compile against ${includeDir}:\n${errors.join('\n')}`);
}

function tableRow(major) {
  const r = spawnSync(dump, ['row', String(major)], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gcstats' table has no row for V8 ${major} (src/v8layout.c)`);
  return JSON.parse(r.stdout);
}

test('the table agrees with the headers of this node\'s V8', { skip: noHeaders }, () => {
  const headers = readHeaders();
  // The headers must be this node's own.
  assert.equal(headers.v8_version, versions.v8.split('.').slice(0, 2).join('.'),
    `headers at ${includeDir} are of V8 ${headers.v8_version}, the node runs ${versions.v8}`);
  const row = tableRow(v8Major);
  assert.equal(row.v8_major, v8Major);
  assert.equal(row.node_major, nodeMajor, `V8 ${v8Major} ships in Node ${nodeMajor}, the table says ${row.node_major}`);

  assert.equal(row.heap_statistics.size, headers.heap_statistics.size, 'sizeof(v8::HeapStatistics)');
  assert.deepEqual(row.heap_statistics.offsets, headers.heap_statistics.offsets, 'v8::HeapStatistics offsets');
  for (const [name, width] of Object.entries(headers.heap_statistics.widths)) {
    assert.equal(width, 8, `gcstats reads ${name} as 8 bytes`);
  }
  assert.equal(row.heap_space_statistics.size, headers.heap_space_statistics.size, 'sizeof(v8::HeapSpaceStatistics)');

  assert.deepEqual(row.gc_type, headers.gc_type, 'v8::GCType');
  // No GC type gcstats does not ask for: kGCTypeAll is exactly the bits it knows.
  assert.equal(Object.values(row.gc_type).reduce((a, b) => a | b, 0), headers.gc_type_all, 'kGCTypeAll');
  assert.deepEqual(row.gc_flags, headers.gc_flags, 'v8::GCCallbackFlags');
  assert.deepEqual(row.measure_memory_delegate, headers.measure_memory_delegate, 'v8::MeasureMemoryDelegate vtable');
});

test('the AllocationProfile layout culprits read agrees with the headers', { skip: noHeaders }, () => {
  const r = spawnSync(dump, ['profile', String(v8Major)], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gcstats knows no AllocationProfile layout for V8 ${v8Major} (src/v8layout.c)`);
  assert.deepEqual(JSON.parse(r.stdout), readHeaders().allocation_profile, 'v8::AllocationProfile');
});

test('gcstats decodes a HeapStatistics laid out by the headers', { skip: noHeaders }, () => {
  const headers = readHeaders();
  const decoded = JSON.parse(execFileSync(dump, ['decode', String(v8Major), headers.heap_statistics.bytes], { encoding: 'utf8' }));
  assert.deepEqual(decoded, headers.heap_statistics.values);
});
