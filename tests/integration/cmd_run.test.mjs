// `gcstats run` and `gcstats env` with a real node: COMMAND is exec'd, so
// its pid, exit status and death by a signal are its own; an LD_PRELOAD
// already set is kept and gcstats is never added twice; a bad option runs
// nothing; `gcstats env`'s lines work with bash's export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, lib, run, baseEnv, tempDir, gcLinesFromFile, byEvent } from './harness.mjs';

const gcstats = process.env.GCSTATS_CMD;
const jemalloc = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
if (!gcstats || !existsSync(gcstats)) throw new Error(`GCSTATS_CMD must name the built gcstats command (got ${gcstats})`);

// The environment without the preload: gcstats run is what adds it.
const plainEnv = (extra = {}) => baseEnv(extra, { preload: false });

test('run: a leaking node under the library, its pid and exit status its own', async () => {
  const dir = tempDir();
  const file = join(dir, 'gc-%p.jsonl');
  const res = await run(gcstats, ['run', '--file', file, '--interval', '0', '--', nodeBin, '--expose-gc',
    join(fixtures, 'leak.js')], { env: plainEnv() });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, '240000\n');
  // %p is the pid of the process gcstats started: gcstats itself, replaced by node
  const lines = gcLinesFromFile(join(dir, `gc-${res.child.pid}.jsonl`));
  assert.ok(lines.every((l) => l.pid === res.child.pid));
  const stats = byEvent(lines, 'stats');
  assert.ok(stats.length >= 12, `${stats.length} stats lines`);
  assert.ok(stats.at(-1).current_base > stats[0].current_base + 10e6, 'the heap grows after full GCs');
  assert.equal(byEvent(lines, 'start')[0].settings.interval_s, 0);
  assert.equal(byEvent(lines, 'exit').length, 1);
});

test('run: the exit status passes through', async () => {
  const dir = tempDir();
  const res = await run(gcstats, ['run', '--file', join(dir, 'gc.jsonl'), '--', nodeBin, '-e', 'process.exit(7)'],
    { env: plainEnv() });
  assert.equal(res.code, 7);
  assert.equal(byEvent(gcLinesFromFile(join(dir, 'gc.jsonl')), 'exit').length, 1);
  const shell = await run(gcstats, ['run', 'sh', '-c', 'exit 42'], { env: plainEnv() });
  assert.equal(shell.code, 42);
  assert.equal(shell.stderr, '', 'no output from a process that is not node');
});

test('run: SIGTERM kills COMMAND, and its status says so', async () => {
  const dir = tempDir();
  const file = join(dir, 'gc.jsonl');
  const res = await run(gcstats, ['run', '--file', file, '--', nodeBin, join(fixtures, 'until_stdin.js')], {
    env: plainEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
    onSpawn: (child) => {
      // The start line is written once node's thread first waits (after
      // "ready"): the signal goes when the line is there.
      const poll = setInterval(() => {
        if (existsSync(file) && readFileSync(file, 'utf8').includes('"event":"start"')) {
          clearInterval(poll);
          child.kill('SIGTERM');
        }
      }, 20);
      child.on('close', () => clearInterval(poll));
    },
  });
  assert.equal(res.signal, 'SIGTERM');
  assert.equal(res.code, null);
  const lines = gcLinesFromFile(join(dir, 'gc.jsonl'));
  assert.equal(byEvent(lines, 'start')[0].pid, res.child.pid, 'the pid signalled is node\'s');
});

test('run: an LD_PRELOAD already set is kept, first', { skip: !existsSync(jemalloc) && 'no libjemalloc2' }, async () => {
  const dir = tempDir();
  const res = await run(gcstats, ['run', '--file', join(dir, 'gc.jsonl'), '--', nodeBin, '-e',
    'const maps = require("fs").readFileSync("/proc/self/maps", "utf8");' +
    'console.log(JSON.stringify([process.env.LD_PRELOAD, maps.includes("libjemalloc"), maps.includes("libgcstats")]))'],
  { env: plainEnv({ LD_PRELOAD: jemalloc }) });
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout), [`${jemalloc}:${lib}`, true, true]);
  assert.equal(byEvent(gcLinesFromFile(join(dir, 'gc.jsonl')), 'start').length, 1);
});

test('run: never added twice, under any name', async () => {
  const dir = tempDir();
  const link = join(dir, 'gcstats-link.so');
  symlinkSync(lib, link);
  for (const [i, preload] of [lib, link, `/nonexistent/x.so ${link}`].entries()) {
    const file = join(dir, `gc-${i}.jsonl`);
    const res = await run(gcstats, ['run', '--file', file, '--', nodeBin, '-p', 'process.env.LD_PRELOAD'],
      { env: plainEnv({ LD_PRELOAD: preload }) });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `${preload}\n`);
    const lines = gcLinesFromFile(file);
    assert.equal(byEvent(lines, 'error').length, 0, 'no "another copy" error');
    assert.equal(byEvent(lines, 'start').length, 1);
  }
});

test('run: from env -i with a bare PATH', async () => {
  const dir = tempDir();
  const res = await run('/usr/bin/env', ['-i', `PATH=${join(nodeBin, '..')}:/usr/bin:/bin`, gcstats, 'run', '--file',
    join(dir, 'gc.jsonl'), '--', 'node', '-e', '0'], { env: {} });
  assert.equal(res.code, 0, res.stderr);
  const lines = gcLinesFromFile(join(dir, 'gc.jsonl'));
  assert.equal(byEvent(lines, 'exit').length, 1);
});

test('run: --file wins over a GCSTATS_FD inherited from the environment', async () => {
  const dir = tempDir();
  const res = await run(gcstats, ['run', '--file', join(dir, 'gc.jsonl'), '--', nodeBin, '-e', '0'],
    { env: plainEnv({ GCSTATS_FD: '2' }) });
  assert.equal(res.code, 0);
  assert.equal(res.stderr, '');
  assert.equal(byEvent(gcLinesFromFile(join(dir, 'gc.jsonl')), 'exit').length, 1);
});

test('run: a bad option or value runs nothing, exit status 2, a clear message', async () => {
  const dir = tempDir();
  const marker = join(dir, 'ran');
  const cases = [
    [['--interval', 'soon'], /--interval soon: GCSTATS_INTERVAL=soon is not a number of seconds/],
    [['--intervall', '1'], /unknown option --intervall/],
    [['--probe-budget=0'], /--probe-budget 0: GCSTATS_PROBE_BUDGET=0 is not a percentage/],
    [['--fd', '3', '--file', 'x'], /two destinations/],
    [['--fd', '77'], /--fd 77: not a descriptor open for writing/],
    [['--maps', '0', '--sites', '1'], /GCSTATS_SITES is ignored with GCSTATS_MAPS=0/],
  ];
  for (const [options, message] of cases) {
    const res = await run(gcstats, ['run', ...options, '--', 'touch', marker], { env: plainEnv() });
    assert.equal(res.code, 2, options.join(' '));
    assert.match(res.stderr, message);
    assert.equal(existsSync(marker), false, `ran with ${options.join(' ')}`);
  }
  const none = await run(gcstats, ['run', '--interval', '1'], { env: plainEnv() });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no COMMAND/);
  const missing = await run(gcstats, ['run', '--', join(dir, 'no-such-program')], { env: plainEnv() });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /no-such-program: No such file or directory/);
});

test('GCSTATS_LIBRARY names the library', async () => {
  const dir = tempDir();
  const link = join(dir, 'libgcstats.so');
  symlinkSync(lib, link);
  const env = await run(gcstats, ['env'], { env: plainEnv({ GCSTATS_LIBRARY: link }) });
  assert.equal(env.code, 0);
  assert.equal(env.stdout, `LD_PRELOAD=${lib}\n`, 'its real path');
  const bad = await run(gcstats, ['run', '--', 'true'], { env: plainEnv({ GCSTATS_LIBRARY: join(dir, 'none.so') }) });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /GCSTATS_LIBRARY=.*none\.so: No such file or directory/);
});

test('env: KEY=VALUE lines that bash export and an EnvironmentFile take', async () => {
  const dir = tempDir();
  const file = join(dir, 'gc-%p.jsonl');
  const env = await run(gcstats, ['env', '--file', file, '--interval', '0.5', '--leak-min-growth=2M'], { env: plainEnv() });
  assert.equal(env.code, 0, env.stderr);
  assert.equal(env.stdout,
    `LD_PRELOAD=${lib}\nGCSTATS_FILE=${file}\nGCSTATS_INTERVAL=0.5\nGCSTATS_LEAK_MIN_GROWTH=2M\n`);
  // what systemd reads: one KEY=VALUE a line, nothing to unquote
  for (const line of env.stdout.trimEnd().split('\n')) assert.match(line, /^[A-Z_]+=[^\s'"\\$`]+$/);
  const script = join(dir, 'export.sh');
  writeFileSync(script, `export $("${gcstats}" env --file "${file}" --interval 0.5)\nexec "${nodeBin}" -e "console.log(process.pid)"\n`);
  const res = await run('bash', [script], { env: plainEnv() });
  assert.equal(res.code, 0, res.stderr);
  const pid = Number(res.stdout);
  const lines = gcLinesFromFile(join(dir, `gc-${pid}.jsonl`));
  assert.equal(byEvent(lines, 'start')[0].settings.interval_s, 0.5);
  assert.equal(byEvent(lines, 'exit').length, 1);
});

test('env: a value export would split or expand is refused, and nothing printed', async () => {
  const res = await run(gcstats, ['env', '--interval', '1', '--file', '/var/log/my app/gc.jsonl'], { env: plainEnv() });
  assert.equal(res.code, 2);
  assert.equal(res.stdout, '');
  assert.match(res.stderr, /GCSTATS_FILE=\/var\/log\/my app\/gc.jsonl: a value with blanks/);
  const operand = await run(gcstats, ['env', 'node'], { env: plainEnv() });
  assert.equal(operand.code, 2);
  assert.match(operand.stderr, /unexpected argument node/);
});

test('--help of run and env lists every setting; the subcommands are listed', async () => {
  const help = await run(gcstats, ['run', '--help'], { env: plainEnv() });
  assert.equal(help.code, 0);
  for (const v of ['file', 'fd', 'interval', 'leak-min-span', 'leak-min-growth', 'leak-report', 'maps', 'sites',
    'probe', 'probe-budget', 'culprits', 'culprits-interval']) assert.match(help.stdout, new RegExp(`^  --${v} `, 'm'));
  const top = await run(gcstats, ['--help'], { env: plainEnv() });
  for (const sub of ['run', 'env', 'tail']) assert.match(top.stdout, new RegExp(`^  ${sub} `, 'm'));
  const unknown = await run(gcstats, ['frobnicate'], { env: plainEnv() });
  assert.equal(unknown.code, 2);
});
