// The arm64 library, preloaded under qemu-user into two programs of the
// cross build (node itself does not finish starting under qemu-user):
// one without V8 that maps memory and waits on epoll, through epoll_pwait
// where aarch64's kernel has no epoll_wait (tests/helpers/epoll_mmap.c),
// prints and exits exactly as without it and gets no line; one that
// exports v8::V8::GetVersion and no other V8 symbol
// (tests/helpers/fake_v8.c) is left alone too, and gets one error line
// naming a missing symbol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnHost } from './cross.mjs';

const lib = process.env.GCSTATS_LIB;
if (!lib || !existsSync(lib)) throw new Error(`GCSTATS_LIB must name the arm64 libgcstats.so (got ${lib})`);

// The environment without anything gcstats reads; with the preload if
// asked. The exe_wrapper is qemu-aarch64-static, a static program: only
// the emulated program's loader reads LD_PRELOAD.
function envWith(extra, preload) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GCSTATS_') || k === 'LD_PRELOAD') delete env[k];
  return { ...env, ...(preload ? { LD_PRELOAD: lib } : {}), ...extra };
}

function underPreload(program) {
  const file = join(mkdtempSync(join(tmpdir(), 'gcstats-arm64-')), 'gc.jsonl');
  const without = spawnHost(program, [], envWith({}, false));
  const withLib = spawnHost(program, [], envWith({ GCSTATS_FILE: file }, true));
  assert.deepEqual(withLib, without, 'the program runs as without the library');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

test('a program without V8 that maps and waits on epoll: untouched, no line', () => {
  assert.deepEqual(underPreload(process.env.GCSTATS_EPOLL_MMAP), []);
});

test('a V8 without the symbols gcstats needs: untouched, one error line', () => {
  const lines = underPreload(process.env.GCSTATS_FAKE_V8);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0].event, 'error');
  assert.match(lines[0].reason, /_ZN2v8\w+/);
  assert.doesNotMatch(lines[0].reason, /GetVersion/, 'the symbol it names is one that is missing');
});
