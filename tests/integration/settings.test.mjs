// The environment variables of the contract, and what a bad value does:
// one clear line on standard error naming the variable and the value,
// and the application runs on unharmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, tempDir, parseLines, byEvent } from './harness.mjs';

const idle = (ms) => ['--expose-gc', join(fixtures, 'idle.js'), String(ms)];

function jsonLines(text) {
  return parseLines(text.split('\n').filter((l) => l.startsWith('{')).join('\n'));
}

test('default: standard error, the application\'s output untouched', async () => {
  const res = await run(nodeBin, idle(10), { env: baseEnv() });
  assert.equal(res.code, 0);
  assert.equal(res.stdout, 'ok\n');
  const lines = parseLines(res.stderr);
  assert.equal(byEvent(lines, 'start')[0].settings.destination, 'stderr');
  assert.equal(byEvent(lines, 'exit').length, 1);
});

test('GCSTATS_FILE with %p names the file by pid', async () => {
  const dir = tempDir();
  const res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_FILE: join(dir, 'gc-%p.jsonl') }) });
  assert.equal(res.code, 0);
  assert.equal(res.stderr, '');
  const path = join(dir, `gc-${res.child.pid}.jsonl`);
  assert.ok(existsSync(path));
  const lines = parseLines(readFileSync(path, 'utf8'));
  assert.equal(byEvent(lines, 'start')[0].settings.destination, `file:${path}`);
  assert.ok(lines.every((l) => l.pid === res.child.pid));
});

test('GCSTATS_FILE appends', async () => {
  const dir = tempDir();
  const path = join(dir, 'gc.jsonl');
  for (let i = 0; i < 2; i++) await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_FILE: path }) });
  assert.equal(byEvent(parseLines(readFileSync(path, 'utf8')), 'exit').length, 2);
});

test('GCSTATS_FD', async () => {
  const dir = tempDir();
  const path = join(dir, 'fd.jsonl');
  const fd = openSync(path, 'w');
  const res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_FD: '3' }), stdio: ['ignore', 'pipe', 'pipe', fd] });
  closeSync(fd);
  assert.equal(res.code, 0);
  assert.equal(res.stderr, '');
  const lines = parseLines(readFileSync(path, 'utf8'));
  assert.equal(byEvent(lines, 'start')[0].settings.destination, 'fd:3');
  assert.equal(byEvent(lines, 'exit').length, 1);
});

const bad = [
  ['GCSTATS_FD', 'three', /GCSTATS_FD=three is not a file descriptor number/],
  ['GCSTATS_FD', '77', /GCSTATS_FD=77 is not a descriptor open for writing/],
  ['GCSTATS_FILE', '/nonexistent-dir/gc.jsonl', /GCSTATS_FILE=\/nonexistent-dir\/gc.jsonl cannot be opened/],
  ['GCSTATS_FILE', '', /GCSTATS_FILE= is empty or too long a path/],
];
for (const [name, value, message] of bad) {
  test(`bad ${name}=${JSON.stringify(value)}: one error line, then quiet`, async () => {
    const res = await run(nodeBin, idle(10), { env: baseEnv({ [name]: value }) });
    assert.equal(res.code, 0);
    assert.equal(res.stdout, 'ok\n');
    const lines = parseLines(res.stderr);
    assert.equal(lines.length, 1, res.stderr);
    assert.equal(lines[0].event, 'error');
    assert.match(lines[0].reason, message);
  });
}

test('GCSTATS_FD open read-only is refused', async () => {
  const dir = tempDir();
  const path = join(dir, 'ro');
  closeSync(openSync(path, 'w'));
  const fd = openSync(path, 'r');
  const res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_FD: '3' }), stdio: ['ignore', 'pipe', 'pipe', fd] });
  closeSync(fd);
  assert.equal(res.code, 0);
  const lines = parseLines(res.stderr);
  assert.equal(lines.length, 1);
  assert.match(lines[0].reason, /GCSTATS_FD=3 is not a descriptor open for writing/);
});

test('bad GCSTATS_INTERVAL: named, and the default is used', async () => {
  const dir = tempDir();
  const path = join(dir, 'gc.jsonl');
  const res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_INTERVAL: '10s', GCSTATS_FILE: path }) });
  assert.equal(res.code, 0);
  const errs = jsonLines(res.stderr);
  assert.equal(errs.length, 1);
  assert.match(errs[0].reason, /GCSTATS_INTERVAL=10s is not a number of seconds/);
  const lines = parseLines(readFileSync(path, 'utf8'));
  assert.equal(byEvent(lines, 'start')[0].settings.interval_s, 10);
});

test('GCSTATS_INTERVAL=0.2: tick lines with counters and RSS', async () => {
  const dir = tempDir();
  const path = join(dir, 'gc.jsonl');
  const res = await run(nodeBin, idle(1500), { env: baseEnv({ GCSTATS_INTERVAL: '0.2', GCSTATS_FILE: path }) });
  assert.equal(res.code, 0);
  const lines = parseLines(readFileSync(path, 'utf8'));
  const ticks = byEvent(lines, 'tick');
  // One tick per 0.2 s of the library's life (start line to exit line):
  // a loaded machine may fire fewer, never more.
  const lifeMs = Date.parse(byEvent(lines, 'exit')[0].ts) - Date.parse(byEvent(lines, 'start')[0].ts);
  assert.ok(ticks.length >= 3 && ticks.length <= Math.floor(lifeMs / 200) + 1, `${ticks.length} ticks in ${lifeMs} ms`);
  for (const t of ticks) {
    assert.equal(t.isolate, 1);
    assert.ok(t.rss > 10e6);
    assert.ok(Number.isInteger(t.num_full_gc) && Number.isInteger(t.num_inc_gc));
  }
  const last = ticks[ticks.length - 1];
  assert.ok(last.num_full_gc >= 1 && last.heap.used > 0 && last.current_base > 0);
  const times = ticks.map((t) => Date.parse(t.ts));
  for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 150, `ticks ${times}`);
});

test('GCSTATS_INTERVAL=0: no tick lines', async () => {
  const dir = tempDir();
  const path = join(dir, 'gc.jsonl');
  await run(nodeBin, idle(600), { env: baseEnv({ GCSTATS_INTERVAL: '0', GCSTATS_FILE: path }) });
  const lines = parseLines(readFileSync(path, 'utf8'));
  assert.equal(byEvent(lines, 'tick').length, 0);
  assert.equal(byEvent(lines, 'exit').length, 1);
  assert.equal(byEvent(lines, 'start')[0].settings.interval_s, 0);
});

test('GCSTATS_MAPS=0: nothing counted, no sites lines, GCSTATS_SITES said to be ignored', async () => {
  const dir = tempDir();
  const path = join(dir, 'gc.jsonl');
  const res = await run(nodeBin, idle(1200), {
    env: baseEnv({ GCSTATS_MAPS: '0', GCSTATS_SITES: '0.2', GCSTATS_INTERVAL: '0.3', GCSTATS_FILE: path }),
  });
  assert.equal(res.code, 0);
  const errs = jsonLines(res.stderr);
  assert.equal(errs.length, 1);
  assert.match(errs[0].reason, /GCSTATS_SITES is ignored with GCSTATS_MAPS=0/);
  const lines = parseLines(readFileSync(path, 'utf8'));
  const start = byEvent(lines, 'start')[0];
  assert.equal(start.settings.maps, false);
  assert.equal(start.settings.sites_s, 0);
  assert.equal(byEvent(lines, 'sites').length, 0);
  for (const l of [...byEvent(lines, 'stats'), ...byEvent(lines, 'tick'), ...byEvent(lines, 'exit')]) assert.equal(l.mapped, null);
  assert.ok(byEvent(lines, 'tick').length >= 1);
});

test('GCSTATS_SITES: sites lines at that period; bad values named', async () => {
  const dir = tempDir();
  const path = join(dir, 'gc.jsonl');
  const res = await run(nodeBin, idle(1500), { env: baseEnv({ GCSTATS_SITES: '0.25', GCSTATS_INTERVAL: '0', GCSTATS_FILE: path }) });
  assert.equal(res.code, 0);
  const lines = parseLines(readFileSync(path, 'utf8'));
  assert.equal(byEvent(lines, 'start')[0].settings.maps, true);
  assert.equal(byEvent(lines, 'start')[0].settings.sites_s, 0.25);
  const sites = byEvent(lines, 'sites');
  assert.ok(sites.length >= 3, `${sites.length} sites lines`);
  for (const s of sites) {
    assert.equal(s.isolate, 1);
    assert.ok(s.sites.length >= 1 && s.sites.length <= 8);
    assert.ok(s.mapped.owners.v8_heap.committed > 0);
    // The most resident first.
    for (let i = 1; i < s.sites.length; i++) assert.ok(s.sites[i - 1].resident >= s.sites[i].resident);
  }
  const bad = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_SITES: 'often', GCSTATS_MAPS: 'yes', GCSTATS_FILE: join(dir, 'bad.jsonl') }) });
  assert.equal(bad.code, 0);
  const reasons = jsonLines(bad.stderr).map((l) => l.reason).join('\n');
  assert.match(reasons, /GCSTATS_MAPS=yes is not 0 or 1; using 1/);
  assert.match(reasons, /GCSTATS_SITES=often is not a number of seconds/);
});

test('GCSTATS_PROBE_BUDGET: shown in the start line; a bad value named, 1% used', async () => {
  const dir = tempDir();
  const path = join(dir, 'budget.jsonl');
  let res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_PROBE_BUDGET: '2.5', GCSTATS_FILE: path }) });
  assert.equal(res.code, 0);
  assert.equal(res.stderr, '');
  assert.equal(byEvent(parseLines(readFileSync(path, 'utf8')), 'start')[0].settings.probe_budget_pct, 2.5);
  const bad = join(dir, 'budget-bad.jsonl');
  res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_PROBE_BUDGET: '0', GCSTATS_FILE: bad }) });
  assert.equal(res.code, 0);
  const reasons = jsonLines(res.stderr).map((l) => l.reason);
  assert.deepEqual(reasons, ['GCSTATS_PROBE_BUDGET=0 is not a percentage from 0.01 to 100; using 1']);
  assert.equal(byEvent(parseLines(readFileSync(bad, 'utf8')), 'start')[0].settings.probe_budget_pct, 1);
});

test('GCSTATS_PROBE: shown in the start line; bad values named, the default used', async () => {
  const dir = tempDir();
  for (const [value, shown] of [['2.5', 2.5], ['0', 0]]) {
    const path = join(dir, `probe-${value}.jsonl`);
    const res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_PROBE: value, GCSTATS_FILE: path }) });
    assert.equal(res.code, 0);
    assert.equal(res.stderr, '');
    assert.equal(byEvent(parseLines(readFileSync(path, 'utf8')), 'start')[0].settings.probe_s, shown);
  }
  for (const value of ['0.2', 'soon', '-3']) {
    const path = join(dir, 'probe-bad.jsonl');
    const res = await run(nodeBin, idle(10), { env: baseEnv({ GCSTATS_PROBE: value, GCSTATS_FILE: path }) });
    assert.equal(res.code, 0);
    const reasons = jsonLines(res.stderr).map((l) => l.reason);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], new RegExp(`GCSTATS_PROBE=${value} is not 0 or a number of seconds from 1 to 86400; using 5`));
    const starts = byEvent(parseLines(readFileSync(path, 'utf8')), 'start');
    assert.equal(starts[starts.length - 1].settings.probe_s, 5);
  }
});
