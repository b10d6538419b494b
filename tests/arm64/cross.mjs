// What the aarch64 checks share: running a program of the cross build
// (under meson's exe_wrapper, qemu-user) and reading a V8 header.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The cross file's exe_wrapper (tests/meson.build passes it on).
const wrapper = (process.env.GCSTATS_EXE_WRAPPER || '').split(' ').filter(Boolean);
if (!wrapper.length) throw new Error('GCSTATS_EXE_WRAPPER must name the cross build\'s exe_wrapper (tests/meson.build sets it)');

function wrapped(program, args) {
  if (!program || !existsSync(program)) throw new Error(`no such program of the cross build: ${program}`);
  return [...wrapper, program, ...args];
}

// Its output; throws if it fails.
export function runHost(program, args = []) {
  const [cmd, ...rest] = wrapped(program, args);
  return execFileSync(cmd, rest, { encoding: 'utf8' });
}

// { status, signal, stdout, stderr } whatever its exit.
export function spawnHost(program, args = [], env = process.env) {
  const [cmd, ...rest] = wrapped(program, args);
  const r = spawnSync(cmd, rest, { encoding: 'utf8', env, timeout: 120000 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// V8_MAJOR_VERSION from a node's include/node/v8-version.h.
export function v8MajorOf(includeDir) {
  const m = /#define V8_MAJOR_VERSION (\d+)/.exec(readFileSync(join(includeDir, 'v8-version.h'), 'utf8'));
  if (!m) throw new Error(`no V8_MAJOR_VERSION in ${includeDir}/v8-version.h`);
  return Number(m[1]);
}
