// Culprits: V8's sampling heap profiler names the code that holds a
// growing heap. Three fixtures leak from a known function beside the decoy
// (churnDecoy), which allocates ten times more and keeps nothing: into a
// Map (retainOrder, also in a Worker), through a closure (record), and
// through an HTTP server's event listener that is never removed
// (subscribeSession). The culprits line that follows the heap's leak line
// must name the leaking function, its file and line, and not the decoy.
// With GCSTATS_PROFILE_DIR each line's whole profile is a .heapprofile
// file of DevTools' shape, whose bytes add up to the line's. With
// GCSTATS_CULPRITS=off there is no sampler and no line; in auto mode a
// steady heap never starts the sampler (the exit line's
// self.sampler_starts counts the starts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fixtures, nodeBin, runNodeWithLines, byEvent, tempDir } from './harness.mjs';

// A fixture, its leaking function and the function V8 may inline it into
// (an anonymous callback), by the lines they start at.
function leakFixture(name, leaking, leakingStarts, callerStarts) {
  const path = join(fixtures, name);
  const source = readFileSync(path, 'utf8').split('\n');
  const lineOf = (text) => {
    const i = source.findIndex((l) => l.includes(text));
    assert.ok(i >= 0, `${name} has no line with ${text}`);
    return i + 1;
  };
  return { path, leaking, leakingLine: lineOf(leakingStarts), callerLine: lineOf(callerStarts) };
}
const orders = leakFixture('culprits_leak.js', 'retainOrder', 'function retainOrder()', 'const timer = setInterval(');
const closure = leakFixture('culprits_closure.js', 'record', 'return function record(', 'const timer = setInterval(');
const listener = leakFixture('culprits_listener.js', 'subscribeSession', 'function subscribeSession(',
  'http.createServer((req, res)');
const fixture = orders.path;
const decoyPath = join(fixtures, 'culprits_common.js');

// Samples come fast: the detector judges after 5 s, and the probe may ask
// for a full GC every second.
const fast = { GCSTATS_LEAK_MIN_SPAN: '5', GCSTATS_PROBE: '1', GCSTATS_PROBE_BUDGET: '100' };

// The top site is the leaking function at its own line, or, when V8 inlined
// it into its caller (an anonymous callback), that callback at its line.
function assertNamesTheLeak(c, f = orders) {
  const isFixture = (url) => url === f.path || url === `file://${f.path}`;
  assert.ok(c.sites.length >= 1, `no sites: ${JSON.stringify(c)}`);
  const top = c.sites[0];
  assert.ok(isFixture(top.url), `the top site is not in the fixture: ${JSON.stringify(top)}`);
  const named = (top.function === f.leaking && top.line === f.leakingLine) ||
    (top.function === '' && top.line === f.callerLine);
  assert.ok(named, `the top site is not ${f.leaking} (line ${f.leakingLine}) or its caller (line ${f.callerLine}): ${JSON.stringify(top)}`);
  assert.ok(top.column >= 1);
  // The decoy allocates ten times more than the leak and keeps nothing:
  // with every sample counted it would lead. Only its newest objects, not
  // yet collected when the profile is read, can still hold a sample or two.
  const decoy = c.sites.filter((s) => s.function === 'churnDecoy' || s.url === decoyPath || s.url === `file://${decoyPath}`);
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

// The application's own code, as src/culprits.c tells it: a script with a
// path, not node's own (node:..., internal/...) nor a builtin's (no URL).
const isApp = (url) => url !== '' && !url.startsWith('node:') && !url.startsWith('internal/') && /[/\\]/.test(url);

// c's .heapprofile: in GCSTATS_PROFILE_DIR, named for the time, pid and
// isolate, of the shape DevTools loads (as `node --heap-prof` writes it),
// whole, and its bytes are the line's: all of them, and the top site's
// when charged as gcstats charges them (to the innermost frame of the
// application's code). Returns the file's path.
function assertHeapProfile(c, dir, pid) {
  assert.equal(typeof c.profile, 'string', `no profile: ${JSON.stringify(c)}`);
  assert.equal(c.profile, join(dir, basename(c.profile)));
  assert.match(basename(c.profile), new RegExp(`^gcstats\\.\\d{8}\\.\\d{6}\\.\\d{3}\\.${pid}\\.${c.isolate}\\.heapprofile$`));
  assert.equal(c.profile_cut, false);
  const p = JSON.parse(readFileSync(c.profile, 'utf8'));
  assert.deepEqual(Object.keys(p), ['head', 'samples']);
  assert.ok(Array.isArray(p.samples));
  assert.equal(p.head.callFrame.functionName, '(root)');
  const ids = new Set();
  const charged = new Map();
  let total = 0;
  let nodes = 0;
  const topFrameSeen = [];
  const top = c.sites[0];
  const walk = (n, appFrame) => {
    assert.deepEqual(Object.keys(n), ['callFrame', 'selfSize', 'id', 'children']);
    const f = n.callFrame;
    assert.deepEqual(Object.keys(f), ['functionName', 'scriptId', 'url', 'lineNumber', 'columnNumber']);
    assert.ok(typeof f.functionName === 'string' && typeof f.url === 'string');
    assert.match(f.scriptId, /^\d+$/);
    assert.ok(Number.isInteger(f.lineNumber) && f.lineNumber >= -1 && Number.isInteger(f.columnNumber) && f.columnNumber >= -1);
    assert.ok(Number.isInteger(n.selfSize) && n.selfSize >= 0 && Number.isInteger(n.id) && !ids.has(n.id));
    ids.add(n.id);
    nodes++;
    total += n.selfSize;
    // 0-based in the file, 1-based in the line.
    if (f.functionName === top.function && f.url === top.url && f.lineNumber === top.line - 1 &&
        f.columnNumber === top.column - 1) topFrameSeen.push(n.id);
    const site = isApp(f.url) ? f : appFrame;
    if (n.selfSize > 0) {
      const at = site ?? f;
      const key = `${at.functionName} ${at.url}:${at.lineNumber + 1}:${at.columnNumber + 1}`;
      charged.set(key, (charged.get(key) ?? 0) + n.selfSize);
    }
    for (const child of n.children) walk(child, site);
  };
  walk(p.head, null);
  assert.equal(c.cut, false);
  assert.equal(nodes, c.nodes);
  assert.equal(total, c.sampled_bytes);
  // V8's samples, each of a node in the file. Their sizes add up to the
  // nodes' but for rounding (V8 scales each sample's count, and each node's
  // sum of counts, to whole objects) and a sample or two V8 took, or saw
  // die, while it built the profile.
  let sampled = 0;
  for (const s of p.samples) {
    assert.deepEqual(Object.keys(s), ['size', 'nodeId', 'ordinal']);
    assert.ok(Number.isInteger(s.size) && s.size > 0 && Number.isInteger(s.ordinal) && s.ordinal >= 0);
    assert.ok(ids.has(s.nodeId), `sample of node ${s.nodeId}, not in the file`);
    sampled += s.size;
  }
  assert.ok(Math.abs(sampled - total) <= total * 0.1 + 2 * c.interval_bytes, `samples ${sampled} bytes, nodes ${total}`);
  assert.ok(topFrameSeen.length >= 1, `the top site's frame is not in the file`);
  assert.equal(charged.get(`${top.function} ${top.url}:${top.line}:${top.column}`), top.bytes);
  return c.profile;
}

test('a heap leak line is followed by a culprits line naming the leaking function; the next one says its growth', async () => {
  const dir = tempDir();
  const res = await runNodeWithLines([fixture],
    { env: { ...fast, GCSTATS_LEAK_REPORT: '2', CULPRITS_FIXTURE_UNTIL: 'culprits:2', GCSTATS_PROFILE_DIR: dir } });
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
  const first = assertHeapProfile(c, dir, start.pid);
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
  // Each line its own file, and nothing else in the directory (no .tmp left).
  assert.notEqual(assertHeapProfile(next, dir, start.pid), first);
  assert.deepEqual(readdirSync(dir).sort(), culprits.filter((l) => l.profile).map((l) => basename(l.profile)).sort());
});

// Started now, to run beside the tests above (CI's time): each waits for
// its own events, never for a time.
const started = (promise) => { promise.catch(() => {}); return promise; };
const notADir = join(tempDir(), 'a-file');
writeFileSync(notADir, '');
const closureRun = started(runNodeWithLines([closure.path], { env: { ...fast, GCSTATS_PROFILE_DIR: notADir } }));
const listenerDir = tempDir();
const listenerRun = started(runNodeWithLines([listener.path], { env: { ...fast, GCSTATS_PROFILE_DIR: listenerDir } }));

test('a leak through a closure is charged to the closure; GCSTATS_PROFILE_DIR not a directory: one error line, no files', async () => {
  const res = await closureRun;
  assert.equal(res.code, 0, `exit ${res.code} ${res.signal}: ${res.stderr.slice(-500)}`);
  const errors = res.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const said = errors.filter((e) => /GCSTATS_PROFILE_DIR/.test(e.reason));
  assert.equal(said.length, 1, res.stderr);
  assert.equal(said[0].event, 'error');
  assert.equal(said[0].reason, `GCSTATS_PROFILE_DIR=${notADir} is not a directory; no .heapprofile files`);
  const c = byEvent(res.lines, 'culprits')[0];
  assert.ok(c, 'a culprits line');
  assertNamesTheLeak(c, closure);
  assert.equal(c.profile, null);
  assert.equal(c.profile_cut, false);
});

test('a leak through an event listener never removed, in an HTTP server, is charged to the function that added it', async () => {
  const res = await listenerRun;
  assert.equal(res.code, 0, `exit ${res.code} ${res.signal}: ${res.stderr.slice(-500)}`);
  const c = byEvent(res.lines, 'culprits')[0];
  assert.ok(c, 'a culprits line');
  assertNamesTheLeak(c, listener);
  assertHeapProfile(c, listenerDir, byEvent(res.lines, 'start')[0].pid);
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

// A node built against libc++ (a preloaded library exports std::__1::cout's
// name): gcstats does not read its profiles. In auto mode the writer
// thread finds that out when it starts, before it writes the start line;
// in always mode the constructor does.
for (const mode of ['auto', 'always']) {
  test(`a node with libc++, culprits ${mode}: one error line, culprits off, the rest goes on`, async () => {
    const res = await runNodeWithLines([fixture], {
      env: { ...fast, GCSTATS_CULPRITS: mode, CULPRITS_FIXTURE_UNTIL: 'leak:1',
             LD_PRELOAD: `${process.env.GCSTATS_LIBCXX_MARKER}:${process.env.GCSTATS_LIB}` },
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(byEvent(res.lines, 'start')[0].settings.culprits, 'off');
    const errors = byEvent(res.lines, 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0].reason, /libc\+\+.*no culprits lines/);
    assert.ok(byEvent(res.lines, 'leak').length >= 1, 'the leak is still reported');
    assert.equal(byEvent(res.lines, 'culprits').length, 0);
    assert.equal(byEvent(res.lines, 'exit')[0].self.sampler_starts, 0);
  });
}

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
