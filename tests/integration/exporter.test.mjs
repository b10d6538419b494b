// `gcstats exporter`: a real Prometheus (Debian's prometheus package, on a
// port of its own with a generated config) scrapes it while a leaking
// process runs under the preload; promtool lints its output and tests the
// example alerting rules; and bad input: lines that are not JSON, a file
// deleted, rotated and truncated, a port in use, 1,000 processes' files in
// one directory, scrapes during a burst of writes. Nothing here measures
// time: each step waits for what it expects, with a deadline only against
// a hang.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, baseEnv, tempDir, watchOutput } from './harness.mjs';

const gcstats = process.env.GCSTATS_CMD;
if (!gcstats || !existsSync(gcstats)) throw new Error(`GCSTATS_CMD must name the built gcstats command (got ${gcstats})`);
const HANG_GUARD_MS = 60000;
const repo = join(fixtures, '..', '..');
const plainEnv = () => baseEnv({}, { preload: false });

const children = [];
after(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

// A child whose output is gathered (see watchOutput), and its end.
function watch(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { env: plainEnv(), stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  children.push(child);
  const watched = watchOutput(child, cmd, HANG_GUARD_MS);
  watched.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return watched;
}

// A running exporter on a port the kernel picks; url is where it serves.
async function exporter(args) {
  const e = watch(gcstats, ['exporter', '--listen', '127.0.0.1:0', ...args]);
  await e.until('that it serves', (s) => /serving http:\/\/\S+/.test(s.stderr));
  e.url = /serving (http:\/\/\S+)/.exec(e.seen.stderr)[1];
  e.address = /http:\/\/([^/]+)/.exec(e.url)[1];
  e.stop = async () => {
    e.child.kill('SIGTERM');
    const end = await e.exited;
    assert.deepEqual(end, { code: 0, signal: null }, `the exporter stops cleanly on SIGTERM; stderr:\n${e.seen.stderr}`);
  };
  return e;
}

// The exposition format, read strictly: every line a comment or a sample
// "name{labels} value", each label value quoted with only \\ \" \n escaped.
// Returns the samples; throws on anything else (a torn or cut response).
function parseExposition(text) {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const samples = [];
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/y;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels = {};
    const body = m[2] ?? '';
    let at = 0;
    while (at < body.length) {
      labelRe.lastIndex = at;
      const l = labelRe.exec(body);
      assert.ok(l, `bad labels in ${JSON.stringify(line)}`);
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      at = labelRe.lastIndex;
      if (body[at] === ',') at++;
    }
    const value = Number(m[3].replace('+Inf', 'Infinity').replace('-Inf', '-Infinity'));
    assert.ok(!Number.isNaN(value) || m[3] === 'NaN', `bad value in ${JSON.stringify(line)}`);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

async function scrape(e) {
  const res = await fetch(e.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return res.text();
}

const find = (samples, name, labels = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const one = (samples, name, labels) => {
  const found = find(samples, name, labels);
  assert.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)}`);
  return found[0].value;
};

// Scrapes until pred holds over the samples (or the hang guard).
async function scrapeUntil(e, what, pred) {
  const deadline = Date.now() + HANG_GUARD_MS;
  let text = '';
  for (;;) {
    text = await scrape(e);
    const samples = parseExposition(text);
    if (pred(samples)) return { text, samples };
    if (Date.now() > deadline) throw new Error(`the exporter never showed ${what}; last:\n${text.slice(0, 4000)}\nstderr:\n${e.seen.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function promtool(args, input) {
  return spawnSync('promtool', args, { input, encoding: 'utf8', env: plainEnv() });
}

// A gcstats line whose every number comes from k, as one GC left them:
// a scrape can then tell whether a pid's values all come from one line.
function line(pid, k, { event = 'stats', isolate = 1, state = 'ok' } = {}) {
  return JSON.stringify({
    event, ts: '2026-11-27T10:00:00.000Z', pid, isolate, dropped: 0, num_full_gc: k, num_inc_gc: 2 * k,
    gc: { scavenge: { count: 2 * k, pause_ms: k }, mark_compact: { count: k, pause_ms: 3 * k } },
    usage_trend: 1.5, estimated_base: 1000 * k, current_base: 1000 * k + 1,
    trend: { heap: { state, samples: 5, rate_bytes_per_s: 10 * k, window_s: 20 } },
    heap: { used: 1000 * k + 2, total: 1000 * k + 3, limit: 4345298944, external: 1000 * k + 4 },
    rss: 1000 * k + 5, rss_peak: 1000 * k + 6,
    mapped: { committed: 9000, owners: { v8_heap: { committed: 1000 * k + 7 } } },
  }) + '\n';
}
const startLine = (pid) => JSON.stringify({ event: 'start', ts: '2026-11-27T10:00:00.000Z', pid, isolate: 1, dropped: 0,
  gcstats: '0.1.0', node: '20.20.2', v8: '11.3.244.8-node.38', thread: 'main' }) + '\n';

// Prometheus' HTTP API: the result of an instant query.
async function promQuery(base, query) {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = await res.json();
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

async function promUntil(prom, base, what, query, pred) {
  const deadline = Date.now() + HANG_GUARD_MS;
  for (;;) {
    const result = await promQuery(base, query);
    if (pred(result)) return result;
    if (Date.now() > deadline) throw new Error(`Prometheus never showed ${what} (${query} = ${JSON.stringify(result)}); its log:\n${prom.seen.stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let leakExposition;

test('a real Prometheus scrapes the exporter during a leak: heap rising, verdict leak, series gone after exit', async () => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const e = await exporter(['--stale', '600', logs]);
  const promDir = join(dir, 'prometheus');
  mkdirSync(promDir);
  writeFileSync(join(promDir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: gcstats\n` +
    `    static_configs:\n      - targets: ['${e.address}']\n`);
  const prom = watch('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(promDir, 'data')}`, '--web.listen-address=127.0.0.1:0']);
  await prom.until('that it listens', (s) => /msg="Listening on" address=\S+:\d+/.test(s.stderr));
  const base = `http://${/msg="Listening on" address=(\S+:\d+)/.exec(prom.seen.stderr)[1]}`;
  // scraping already, so that it sees the process from its start
  await promUntil(prom, base, 'a scrape of the exporter', 'up{job="gcstats"} == 1', (r) => r.length === 1);

  const app = watch(gcstats, ['run', '--file', join(logs, 'gc-%p.jsonl'), '--leak-min-span', '3', '--interval', '1', '--',
    nodeBin, '--expose-gc', join(fixtures, 'leak_then_stop.js'), 'heap', 'Infinity', 'signal']);
  const pid = String(app.child.pid);   // gcstats run becomes node (exec)

  await promUntil(prom, base, `pid ${pid}'s heap leak verdict`,
    `gcstats_verdict{state="leak",memory="heap",pid="${pid}"} == 1`, (r) => r.length === 1);
  // the heap after full GCs, as Prometheus recorded it over 3 scrapes or more, rose
  await promUntil(prom, base, `3 samples of pid ${pid}'s heap`,
    `count_over_time(gcstats_heap_base_bytes{pid="${pid}"}[5m]) >= 3`, (r) => r.length === 1);
  const now = Date.now() / 1000;
  const res = await fetch(`${base}/api/v1/query_range?query=${encodeURIComponent(`gcstats_heap_base_bytes{pid="${pid}"}`)}` +
    `&start=${now - 300}&end=${now}&step=1`);
  const range = (await res.json()).data.result;
  assert.equal(range.length, 1, JSON.stringify(range));
  const values = [...new Set(range[0].values.map(([, v]) => Number(v)))];
  assert.ok(values.length >= 2 && values.at(-1) > values[0], `the heap series rose: ${values.join(' ')}`);
  leakExposition = await scrape(e);
  // the example dashboard's queries are PromQL Prometheus takes, over metrics the exporter serves
  const families = new Set([...leakExposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const dashboard = JSON.parse(readFileSync(join(repo, 'examples', 'grafana', 'gcstats-dashboard.json'), 'utf8'));
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  assert.ok(exprs.length > 10);
  for (const expr of exprs) {
    for (const [name] of expr.matchAll(/\b(?:gcstats|nodejs|process)_[a-z_]+/g)) {
      assert.ok(families.has(name.replace(/_(sum|count)$/, '')), `${name} of the dashboard is served`);
    }
    await promQuery(base, expr.replaceAll('$__rate_interval', '1m').replaceAll(/\$(instance|pid)/g, '.*'));
  }

  app.child.kill('SIGUSR2');   // the fixture ends at its next step, exit status 0
  assert.deepEqual(await app.exited, { code: 0, signal: null }, app.seen.stderr);
  await scrapeUntil(e, `no series of pid ${pid} after its exit`, (s) => !s.some((x) => x.labels.pid === pid));
  // the next scrape without them marks them stale: an instant query finds none
  await promUntil(prom, base, `pid ${pid}'s series stale`, `{pid="${pid}"}`, (r) => r.length === 0);
  prom.child.kill('SIGTERM');
  await prom.exited;
  await e.stop();
});

test('promtool check metrics finds nothing to say about the output', () => {
  assert.ok(leakExposition, 'the scrape of the previous test');
  assert.match(leakExposition, /gcstats_leak_rate_bytes_per_second\{/, 'the output has every kind of metric, leak values too');
  const r = promtool(['check', 'metrics'], leakExposition);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout + r.stderr, '');
});

test('promtool test rules: the example leak alert fires after its hold time, not on a steady series', () => {
  const r = promtool(['test', 'rules', join(repo, 'tests', 'fixtures', 'prometheus', 'gcstats-rules.test.yml')]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

test('bad input: lines that are not JSON, a file deleted, rotated and truncated; a stale process goes', async () => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const named = join(dir, 'app.jsonl');
  const e = await exporter(['--stale', '5', logs, named]);   // named: not there yet
  // made after the start: a file found then would be started at its end if older than the stale time
  writeFileSync(join(logs, 'gc-101.jsonl'), startLine(101) + line(101, 1) + 'not json at all\n{"half":' + '\n' + line(101, 2));
  let { samples } = await scrapeUntil(e, 'pid 101 and two bad lines',
    (s) => find(s, 'gcstats_full_gcs_total', { pid: '101' }).length === 1 && one(s, 'gcstats_exporter_bad_lines_total') === 2);
  assert.equal(one(samples, 'gcstats_full_gcs_total', { pid: '101' }), 2, 'the lines after the bad ones were read');
  assert.equal(one(samples, 'gcstats_info', { pid: '101' }), 1);
  assert.equal(find(samples, 'gcstats_info', { pid: '101' })[0].labels.node_version, '20.20.2');
  assert.match(e.seen.stderr, /gc-101\.jsonl:3: not a gcstats line/);
  assert.equal(one(samples, 'gcstats_exporter_files_followed'), 1);

  // the named file appears, is rotated by rename, then truncated
  writeFileSync(named, line(202, 1));
  ({ samples } = await scrapeUntil(e, 'pid 202 from the named file',
    (s) => find(s, 'gcstats_full_gcs_total', { pid: '202' })[0]?.value === 1));
  assert.equal(one(samples, 'gcstats_exporter_files_followed'), 2);
  renameSync(named, `${named}.1`);
  writeFileSync(named, line(202, 5));
  await scrapeUntil(e, 'pid 202 from the new file', (s) => find(s, 'gcstats_full_gcs_total', { pid: '202' })[0]?.value === 5);
  writeFileSync(named, line(202, 3));   // shorter: truncated and written again
  await scrapeUntil(e, 'pid 202 from the truncated file', (s) => find(s, 'gcstats_full_gcs_total', { pid: '202' })[0]?.value === 3);

  // deleted from the directory: forgotten as a file; its process, silent, goes when stale
  rmSync(join(logs, 'gc-101.jsonl'));
  ({ samples } = await scrapeUntil(e, 'pid 101 gone once stale', (s) => !s.some((x) => x.labels.pid === '101')));
  assert.equal(one(samples, 'gcstats_exporter_files_followed'), 1, 'only the named file is followed');
  await e.stop();
});

test('a port in use: one clear message, exit status 1', async () => {
  const first = await exporter([tempDir()]);
  const second = watch(gcstats, ['exporter', '--listen', first.address, tempDir()]);
  const end = await second.exited;
  assert.deepEqual(end, { code: 1, signal: null });
  assert.equal(second.seen.stderr, `gcstats exporter: cannot listen on ${first.address}: Address already in use\n`);
  await first.stop();
});

test('1,000 processes in one directory: all exported, no descriptor held per file, memory bounded', async () => {
  const dir = tempDir();
  const pids = Array.from({ length: 1000 }, (_, i) => 10000 + i);
  for (const pid of pids) writeFileSync(join(dir, `gc-${pid}.jsonl`), startLine(pid) + line(pid, 3) + line(pid, 4, { isolate: 2 }));
  const e = await exporter(['--stale', '600', dir]);
  const { text, samples } = await scrapeUntil(e, '1,000 processes', (s) => one(s, 'gcstats_exporter_processes') === 1000);
  for (const pid of pids) assert.equal(one(samples, 'gcstats_full_gcs_total', { pid: String(pid), isolate: '2' }), 4);
  assert.equal(one(samples, 'gcstats_exporter_files_followed'), 1000);
  const r = promtool(['check', 'metrics'], text);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout + r.stderr, '');
  const status = readFileSync(`/proc/${e.child.pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  const fds = readdirSync(`/proc/${e.child.pid}/fd`).length;
  console.log(`# 1,000 processes, 2,000 isolates: exporter VmRSS ${kb('VmRSS')} kB, VmHWM ${kb('VmHWM')} kB, ` +
    `${fds} descriptors, exposition ${text.length} bytes`);
  assert.ok(kb('VmHWM') < 200 * 1024, `the exporter's peak RSS ${kb('VmHWM')} kB is under 200 MB`);
  assert.ok(fds < 50, `${fds} descriptors open: the files are not held open`);
  await e.stop();
});

test('scrapes during a burst of writes: each parses, and each pid\'s values come from one line', async () => {
  const dir = tempDir();
  const log = join(dir, 'burst.jsonl');
  writeFileSync(log, '');
  const e = await exporter([log]);
  const pids = Array.from({ length: 20 }, (_, i) => 500 + i);
  let k = 1;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      let chunk = '';
      for (let n = 0; n < 2; n++, k++) for (const pid of pids) chunk += line(pid, k);
      appendFileSync(log, chunk);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  let scrapes = 0;
  let moving = 0;
  let last = -1;
  // until 15 scrapes have seen the counters move since the one before
  while (moving < 15) {
    const samples = parseExposition(await scrape(e));
    scrapes++;
    for (const pid of pids.map(String)) {
      const full = find(samples, 'gcstats_full_gcs_total', { pid });
      if (full.length === 0) continue;
      const kk = full[0].value;
      const labels = { pid };
      assert.equal(one(samples, 'gcstats_incremental_gcs_total', labels), 2 * kk);
      assert.equal(one(samples, 'gcstats_heap_estimated_base_bytes', labels), 1000 * kk);
      assert.equal(one(samples, 'gcstats_heap_base_bytes', labels), 1000 * kk + 1);
      assert.equal(one(samples, 'nodejs_heap_size_used_bytes', labels), 1000 * kk + 2);
      assert.equal(one(samples, 'nodejs_heap_size_total_bytes', labels), 1000 * kk + 3);
      assert.equal(one(samples, 'nodejs_external_memory_bytes', labels), 1000 * kk + 4);
      assert.equal(one(samples, 'process_resident_memory_bytes', labels), 1000 * kk + 5);
      assert.equal(one(samples, 'gcstats_mapped_committed_bytes', { pid, owner: 'v8_heap' }), 1000 * kk + 7);
      assert.equal(one(samples, 'nodejs_gc_duration_seconds_count', { pid, kind: 'major' }), kk);
      assert.equal(one(samples, 'gcstats_trend_rate_bytes_per_second', { pid, memory: 'heap' }), 10 * kk);
    }
    const k0 = find(samples, 'gcstats_full_gcs_total', { pid: '500' })[0]?.value ?? -1;
    if (k0 !== last && last !== -1) moving++;
    last = k0;
    if (scrapes > 5000) throw new Error('the counters did not move between scrapes');
  }
  writing = false;
  await writer;
  await e.stop();
});
