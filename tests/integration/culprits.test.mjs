// Culprits: V8's sampling heap profiler names the code that holds a
// growing heap. A fixture leaks from a known function (retainOrder) beside
// a decoy (churnDecoy) that allocates ten times more and keeps nothing; the
// culprits line that follows the heap's leak line must name the leaking
// function, its file and line, and not the decoy. With GCSTATS_CULPRITS=off
// there is no sampler and no line; in auto mode a steady heap never starts
// the sampler (the exit line's self.sampler_starts counts the starts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, runNodeWithLines, byEvent } from './harness.mjs';

const fixture = join(fixtures, 'culprits_leak.js');
const source = readFileSync(fixture, 'utf8').split('\n');
const lineOf = (text) => source.findIndex((l) => l.includes(text)) + 1;
const retainOrderLine = lineOf('function retainOrder()');
const callbackLine = lineOf('const timer = setInterval(');
const decoyLine = lineOf('function churnDecoy()');

// Samples come fast: the detector judges after 5 s, and the probe may ask
// for a full GC every second.
const fast = { GCSTATS_LEAK_MIN_SPAN: '5', GCSTATS_PROBE: '1', GCSTATS_PROBE_BUDGET: '100' };

const isFixture = (url) => url === fixture || url === `file://${fixture}`;

// The top site is the leaking function at its own line, or, when V8 inlined
// retainOrder into the setInterval callback, that callback at its line.
function assertNamesTheLeak(c) {
  assert.ok(c.sites.length >= 1, `no sites: ${JSON.stringify(c)}`);
  const top = c.sites[0];
  assert.ok(isFixture(top.url), `the top site is not in the fixture: ${JSON.stringify(top)}`);
  const named = (top.function === 'retainOrder' && top.line === retainOrderLine) ||
    (top.function === '' && top.line === callbackLine);
  assert.ok(named, `the top site is not retainOrder (line ${retainOrderLine}) or its caller (line ${callbackLine}): ${JSON.stringify(top)}`);
  assert.ok(top.column >= 1);
  // The decoy allocates ten times more than the leak and keeps nothing:
  // with every sample counted it would lead. Only its newest objects, not
  // yet collected when the profile is read, can still hold a sample or two.
  const decoy = c.sites.filter((s) => s.function === 'churnDecoy' || (isFixture(s.url) && s.line === decoyLine));
  for (const s of decoy) {
    assert.ok(s.samples <= 2 && s.share < 0.1, `the decoy holds live samples: ${JSON.stringify(c.sites)}`);
  }
  assert.ok(top.bytes > 0 && top.bytes <= c.sampled_bytes);
  assert.ok(top.share > 0.5 && top.share <= 1, `share ${top.share}`);
  assert.ok(c.samples >= 10, `${c.samples} samples`);
  assert.ok(c.samples_at_leak >= 1 && c.samples_at_leak <= c.samples);
  assert.ok(c.nodes >= 2 && c.cut === false && typeof c.read_ms === 'number');
  assert.equal(c.previous, null);
  assert.ok(c.sites.every((s) => s.growth_bytes === null), 'no growth on the first line');
}

test('a heap leak line is followed by a culprits line naming the leaking function; the next one says its growth', async () => {
  const res = await runNodeWithLines([fixture],
    { env: { ...fast, GCSTATS_LEAK_REPORT: '2', CULPRITS_FIXTURE_UNTIL: 'culprits:2' } });
  assert.equal(res.code, 0, `exit ${res.code} ${res.signal}: ${res.stderr.slice(-500)}`);
  const start = byEvent(res.lines, 'start')[0];
  assert.equal(start.settings.culprits, 'auto');
  assert.equal(start.settings.culprits_interval_bytes, 524288);
  const leaks = byEvent(res.lines, 'leak').filter((l) => l.memory === 'heap');
  const culprits = byEvent(res.lines, 'culprits');
  assert.ok(leaks.length >= 1, 'the fixture leaks');
  assert.equal(culprits.length >= 1, true, 'a culprits line');
  const c = culprits[0];
  assert.equal(c.isolate, 1);
  assert.equal(c.report, 1);
  assert.ok(res.lines.indexOf(leaks[0]) < res.lines.indexOf(c), 'after the leak line');
  assertNamesTheLeak(c);
  assert.ok(byEvent(res.lines, 'exit')[0].self.sampler_starts >= 1);

  // The leak's next report: the same sites, and what they gained since.
  assert.ok(culprits.length >= 2, 'a culprits line with the second leak line');
  const next = culprits[1];
  assert.equal(next.report, 2);
  assert.equal(next.previous, c.ts);
  const again = next.sites.find((s) => s.function === c.sites[0].function && s.line === c.sites[0].line);
  assert.ok(again, `the leak's site again: ${JSON.stringify(next.sites)}`);
  assert.ok(again.growth_bytes >= 0 && again.growth_bytes === again.bytes - c.sites[0].bytes,
    `growth ${again.growth_bytes} from ${c.sites[0].bytes} to ${again.bytes}`);
});

test('a leak in a Worker: the culprits line carries its isolate; terminating it while sampling is safe', async () => {
  const res = await runNodeWithLines([fixture], { env: { ...fast, CULPRITS_FIXTURE_WORKER: 'terminate' } });
  assert.equal(res.code, 0, `exit ${res.code} ${res.signal}: ${res.stderr.slice(-500)}`);
  const c = byEvent(res.lines, 'culprits')[0];
  assert.ok(c, 'a culprits line');
  assert.equal(c.isolate, 2);
  assertNamesTheLeak(c);
  assert.equal(byEvent(res.lines, 'end').length, 1);
});

test('GCSTATS_CULPRITS=off: no sampler, no culprits line', async () => {
  const res = await runNodeWithLines([fixture],
    { env: { ...fast, GCSTATS_CULPRITS: 'off', CULPRITS_FIXTURE_UNTIL: 'leak:1' } });
  assert.equal(res.code, 0);
  assert.equal(byEvent(res.lines, 'start')[0].settings.culprits, 'off');
  assert.ok(byEvent(res.lines, 'leak').length >= 1, 'the fixture leaks');
  assert.equal(byEvent(res.lines, 'culprits').length, 0);
  assert.equal(byEvent(res.lines, 'exit')[0].self.sampler_starts, 0);
});

test('auto on a steady heap never starts the sampler', async () => {
  const res = await runNodeWithLines([fixture],
    { env: { ...fast, CULPRITS_FIXTURE_STEADY: '1', CULPRITS_FIXTURE_UNTIL: 'stats:6' } });
  assert.equal(res.code, 0);
  const exit = byEvent(res.lines, 'exit')[0];
  assert.ok(exit.heap_compactions >= 6, 'samples were taken');
  assert.equal(byEvent(res.lines, 'leak').length, 0);
  assert.equal(byEvent(res.lines, 'culprits').length, 0);
  assert.equal(exit.self.sampler_starts, 0);
  assert.equal(exit.self.sampler_stops, 0);
});

test('always: the sampler starts at attachment, and no leak means no culprits line', async () => {
  const res = await runNodeWithLines([join(fixtures, 'idle.js'), '300'], { env: { GCSTATS_CULPRITS: 'always' } });
  assert.equal(res.code, 0);
  assert.equal(byEvent(res.lines, 'start')[0].settings.culprits, 'always');
  assert.equal(byEvent(res.lines, 'culprits').length, 0);
  const self = byEvent(res.lines, 'exit')[0].self;
  assert.equal(self.sampler_starts, 1);
  // Stopped at node's environment cleanup, before V8 disposed the isolate.
  assert.equal(self.sampler_stops, 1);
});

test('bad settings: one error line each, and the defaults', async () => {
  const res = await runNodeWithLines([join(fixtures, 'idle.js'), '10'],
    { env: { GCSTATS_CULPRITS: 'sometimes', GCSTATS_CULPRITS_INTERVAL: '12' } });
  assert.equal(res.code, 0);
  const errors = res.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.ok(errors.some((e) => /GCSTATS_CULPRITS=sometimes is not auto, always or off; using auto/.test(e.reason)), res.stderr);
  assert.ok(errors.some((e) => /GCSTATS_CULPRITS_INTERVAL=12 is not a number of bytes/.test(e.reason)), res.stderr);
  const start = byEvent(res.lines, 'start')[0];
  assert.equal(start.settings.culprits, 'auto');
  assert.equal(start.settings.culprits_interval_bytes, 524288);
});
