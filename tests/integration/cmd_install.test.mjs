// `meson install --destdir`: the library in <libdir>/gcstats/, the command
// in <bindir>, both man pages, and nothing else; the installed command
// finds and runs the installed library (not the build tree's). The man
// pages render without a warning from man and from mandoc -Tlint, and
// list every setting of the command's table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { nodeBin, run, baseEnv, tempDir, gcLinesFromFile, byEvent, here } from './harness.mjs';

const buildRoot = process.env.GCSTATS_BUILD_ROOT;
const gcstats = process.env.GCSTATS_CMD;
const man1 = process.env.GCSTATS_MAN1;
const man7 = join(here, '..', '..', 'man', 'gcstats.7');
const plainEnv = (extra = {}) => baseEnv(extra, { preload: false });

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

test('meson install --destdir: the layout, and the installed command runs the installed library', async () => {
  const dest = tempDir();
  const inst = await run('meson', ['install', '-C', buildRoot, '--destdir', dest, '--no-rebuild', '--quiet'],
    { env: plainEnv() });
  assert.equal(inst.code, 0, inst.stderr);
  const installed = filesUnder(dest).map((p) => '/' + relative(dest, p)).sort();
  const cmd = installed.find((p) => p.endsWith('/bin/gcstats'));
  const library = installed.find((p) => p.endsWith('/gcstats/libgcstats.so'));
  assert.ok(cmd && library, installed.join('\n'));
  assert.match(library, /\/lib[^/]*(\/[^/]+)?\/gcstats\/libgcstats\.so$/);
  assert.deepEqual(installed.filter((p) => p !== cmd && p !== library).map((p) => p.replace(/.*\/share\/man\//, '')),
    ['man1/gcstats.1', 'man7/gcstats.7'], 'nothing but the command, the library and the man pages');

  // GCSTATS_LIBRARY cleared: the installed command must find its own
  const env = await run(join(dest, cmd), ['env'], { env: plainEnv() });
  assert.equal(env.code, 0, env.stderr);
  assert.equal(env.stdout, `LD_PRELOAD=${join(dest, library)}\n`);
  const dir = tempDir();
  const res = await run(join(dest, cmd), ['run', '--file', join(dir, 'gc.jsonl'), '--', nodeBin, '-p',
    'require("fs").readFileSync("/proc/self/maps", "utf8").split("\\n").filter((l) => l.includes("libgcstats")).length > 0'],
  { env: plainEnv() });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, 'true\n');
  assert.equal(byEvent(gcLinesFromFile(join(dir, 'gc.jsonl')), 'exit').length, 1);

  for (const page of ['man1/gcstats.1', 'man7/gcstats.7']) {
    const path = join(dest, installed.find((p) => p.endsWith(page)));
    const rendered = await run('man', ['-l', '-Tutf8', path], { env: plainEnv({ MANWIDTH: '80' }) });
    assert.equal(rendered.code, 0, rendered.stderr);
    assert.match(rendered.stdout, /GCSTATS/);
  }
});

test('man pages: no warnings from man or mandoc, every setting listed', async () => {
  for (const page of [man1, man7]) {
    const res = await run('man', ['--warnings', '-l', '-Tutf8', page], { env: plainEnv({ MANWIDTH: '80' }) });
    assert.equal(res.code, 0);
    assert.equal(res.stderr, '', `${page}: ${res.stderr}`);
    assert.ok(res.stdout.length > 2000);
  }
  const mandoc = await run('sh', ['-c', 'command -v mandoc'], { env: plainEnv() });
  if (mandoc.code === 0) {
    for (const page of [man1, man7]) {
      const lint = await run('mandoc', ['-Tlint', '-Wwarning', page], { env: plainEnv() });
      assert.equal(lint.stdout + lint.stderr, '', page);
      assert.equal(lint.code, 0);
    }
  } else {
    console.log('# mandoc not installed: its lint skipped');
  }
  const help = await run(gcstats, ['run', '--help'], { env: plainEnv() });
  const variables = [...help.stdout.matchAll(/^  --([a-z-]+) /gm)].map((m) => `GCSTATS_${m[1].toUpperCase().replace(/-/g, '_')}`);
  assert.equal(variables.length, 13);
  const one = readFileSync(man1, 'utf8');
  const seven = readFileSync(man7, 'utf8');
  for (const v of variables) {
    assert.ok(one.includes(v), `gcstats(1) lacks ${v}`);
    assert.ok(seven.includes(`\\fB${v}=`), `gcstats(7) lacks ${v}`);
  }
});
