// gcstats report on a log written by real runs under the preload: a
// leaking process (a leak, then its end) and a process with two Workers,
// in one file. The text names the leak, its rate and time to the heap
// limit; the HTML has its charts inline, with the leak's markers; bad
// lines are named FILE:LINE and the rest is still read; and, where
// Debian's chromium is installed, the page renders to a picture that is
// not blank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { fixtures, run, baseEnv, tempDir, gcLinesFromFile, byEvent, nodeBin } from './harness.mjs';

const gcstats = process.env.GCSTATS_CMD;
if (!gcstats || !existsSync(gcstats)) throw new Error(`GCSTATS_CMD must name the built gcstats command (got ${gcstats})`);

const dir = tempDir();
const log = join(dir, 'gc.jsonl');

// One log for every test: made once, as an operator's would be.
const made = (async () => {
  const env = baseEnv({ GCSTATS_FILE: log, GCSTATS_INTERVAL: '1', GCSTATS_LEAK_MIN_SPAN: '3', GCSTATS_LEAK_REPORT: '2' });
  // A small heap limit: the time to it depends on the level as well as the rate.
  const leaky = await run(nodeBin, ['--expose-gc', '--max-old-space-size=32', join(fixtures, 'leak_then_stop.js'), 'heap', '7000', '12000'], { env });
  assert.equal(leaky.code, 0, leaky.stderr);
  const workers = await run(nodeBin, [join(fixtures, 'two_workers.js')], { env });
  assert.equal(workers.code, 0, workers.stderr);
  const lines = gcLinesFromFile(log);
  return { lines, leakyPid: leaky.child.pid, workersPid: workers.child.pid };
})();

const gcstatsReport = (args) => run(gcstats, ['report', ...args], { env: baseEnv({}, { preload: false }) });

// "617 kB/s" -> bytes per second; "1.95 h" -> seconds
const bytesOf = (n, unit) => Number(n) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[unit];
const secondsOf = (n, unit) => Number(n) * { s: 1, min: 60, h: 3600, d: 86400 }[unit];
const close = (a, b, rel) => Math.abs(a - b) <= Math.abs(b) * rel;

test('text: every process and isolate, and the leak with its rate and time to the heap limit', async () => {
  const { lines, leakyPid, workersPid } = await made;
  const res = await gcstatsReport([log]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '');
  for (const [pid, isolate] of [[leakyPid, 1], [workersPid, 1], [workersPid, 2], [workersPid, 3]])
    assert.match(res.stdout, new RegExp(`^pid ${pid}, isolate ${isolate} `, 'm'));
  const leak = byEvent(lines, 'leak').filter((l) => l.pid === leakyPid).at(-1);
  assert.ok(leak, 'the run leaked (the verdict test checks that it does)');
  const block = res.stdout.split(`pid ${leakyPid}, isolate 1 `)[1].split('\n\n')[0];
  const m = /LEAK +heap grows by ([\d.]+) (B|kB|MB)\/s .* reaches the heap limit of ([\d.]+) (GB|MB) in ([\d.]+) (s|min|h|d) /.exec(block);
  assert.ok(m, block);
  // three significant digits
  assert.ok(close(bytesOf(m[1], m[2]), leak.rate_bytes_per_s, 0.006), `${m[1]} ${m[2]}/s vs ${leak.rate_bytes_per_s}`);
  assert.ok(close(bytesOf(m[3], m[4]), leak.limit_bytes, 0.006));
  // computed from the limit, the level and the rate: what the line says too
  const until = (leak.limit_bytes - leak.level_bytes) / leak.rate_bytes_per_s;
  assert.ok(close(secondsOf(m[5], m[6]), until, 0.006), `${m[5]} ${m[6]} vs ${until} s`);
  assert.ok(close(until, leak.seconds_to_limit, 0.01));
  assert.ok(leak.level_bytes > leak.limit_bytes / 20, 'the level counts in the time to the limit');
  if (byEvent(lines, 'leak_end').some((l) => l.pid === leakyPid)) assert.match(block, /\(stopped\)/);
  // the GC counts of the last line, by kind
  const exit = byEvent(lines, 'exit').find((l) => l.pid === leakyPid);
  assert.match(block, new RegExp(`GCs +${exit.num_full_gc} full, ${exit.num_inc_gc} other`));
  assert.match(block, new RegExp(`mark_compact +${exit.gc.mark_compact.count} x`));
});

test('html: one page, no script, no URL, a chart of each series, the leak marked', async () => {
  const { lines, leakyPid, workersPid } = await made;
  const out = join(dir, 'report.html');
  const res = await gcstatsReport([log, '-o', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, '');
  const html = readFileSync(out, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i);
  const section = (pid, isolate) => {
    const s = html.split(`<section class="isolate" id="p${pid}-i${isolate}">`)[1];
    assert.ok(s, `a section for pid ${pid} isolate ${isolate}`);
    return s.split('</section>')[0];
  };
  // isolate 1: heap, external, mapped by owner, RSS; a Worker: heap and external
  const charts = (s) => [...s.matchAll(/<svg [^>]*class="(\w+)"/g)].map((m) => m[1]);
  // (an isolate whose log has no stats line, no full GC, has no heap chart)
  const hasStats = (pid, isolate) => byEvent(lines, 'stats').some((l) => l.pid === pid && l.isolate === isolate);
  let svgs = 0;
  for (const [pid, isolate] of [[leakyPid, 1], [workersPid, 1], [workersPid, 2], [workersPid, 3]]) {
    const expected = [...(hasStats(pid, isolate) ? ['heap', 'external'] : []), ...(isolate === 1 ? ['mapped', 'rss'] : [])];
    assert.deepEqual(charts(section(pid, isolate)), expected, `pid ${pid} isolate ${isolate}`);
    svgs += expected.length;
  }
  assert.ok(hasStats(leakyPid, 1));
  assert.equal((html.match(/<svg /g) || []).length, svgs);
  assert.equal((html.match(/<\/svg>/g) || []).length, svgs);

  const heap = section(leakyPid, 1).split('<svg ')[1].split('</svg>')[0];
  const points = /<polyline class="series" data-name="heap after GC"[^>]* points="([^"]+)"/.exec(heap)[1].split(' ');
  const stats = byEvent(lines, 'stats').filter((l) => l.pid === leakyPid && l.isolate === 1);
  // a short run's samples are drawn one by one (two in the same 100 ms at most merge)
  assert.ok(points.length <= stats.length && points.length >= stats.length / 2, `${points.length} of ${stats.length}`);
  for (const p of points) {
    const [x, y] = p.split(',').map(Number);
    assert.ok(x >= 70 && x <= 744 && y >= 30 && y <= 218, p);
  }
  // the heap grew: later samples are drawn higher (smaller y) than the first
  assert.ok(Math.min(...points.map((p) => Number(p.split(',')[1]))) < Number(points[0].split(',')[1]) - 50);
  const leaks = byEvent(lines, 'leak').filter((l) => l.pid === leakyPid);
  assert.equal((heap.match(/class="marker leak-marker"/g) || []).length, leaks.filter((l) => l.report === 1).length);
  assert.equal((heap.match(/class="marker leak-end-marker"/g) || []).length,
    byEvent(lines, 'leak_end').filter((l) => l.pid === leakyPid).length);
  assert.match(heap, /<line class="trend leak-trend"/);
  // no leak elsewhere, so no marker elsewhere
  assert.equal((html.match(/leak-marker"/g) || []).length, (heap.match(/leak-marker"/g) || []).length);
  // axes with units
  assert.match(heap, />MB<\/text>/);
  assert.match(heap, /time since the first line \(s\)/);
});

test('bad input: FILE:LINE on stderr, the rest still read; exit status 0, 1 or 2', async () => {
  await made;
  const good = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const bad = join(dir, 'bad.jsonl');
  const lines = [...good];
  lines.splice(2, 0, 'not json at all');
  lines.splice(4, 0, JSON.stringify({ ...JSON.parse(good[1]), event: 'heapdump', top: [{ name: 'x' }] }));
  writeFileSync(bad, lines.join('\n') + '\n');
  // a last line cut short, as by a crash or a full disk
  appendFileSync(bad, good[1].slice(0, 60));
  const missing = join(dir, 'missing.jsonl');
  const res = await gcstatsReport([missing, bad]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`${missing}: No such file or directory`));
  assert.match(res.stderr, new RegExp(`${bad}:3: not a JSON line`));
  assert.match(res.stderr, new RegExp(`${bad}:5: unknown event "heapdump"`));
  assert.match(res.stderr, new RegExp(`${bad}:${lines.length + 1}: the last line is cut short`));
  assert.equal(res.stderr.trim().split('\n').length, 4, res.stderr);
  // the same report as from the whole log, but for the first line
  const whole = await gcstatsReport([log]);
  const body = (text) => text.split('\n').slice(2).join('\n');
  assert.equal(body(res.stdout).replaceAll(bad, log), body(whole.stdout));
  assert.match(res.stdout, /2 bad, 1 of unknown events/);

  const garbage = join(dir, 'garbage.txt');
  writeFileSync(garbage, 'x\n'.repeat(100));
  const none = await gcstatsReport([garbage, missing]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, new RegExp(`${garbage}:1: not a JSON line`));
  assert.match(none.stderr, new RegExp(`${garbage}: 80 more bad lines not shown`));
  assert.match(none.stderr, /no gcstats line could be read/);
  assert.equal(none.stdout, '');

  assert.equal((await gcstatsReport([])).code, 2);
  assert.equal((await gcstatsReport(['--bogus', log])).code, 2);
  assert.equal((await gcstatsReport([log, '-o'])).code, 2);
});

test('a cluster and its children writing one file: a block per node process, each with its numbers', async () => {
  const cluster = join(dir, 'cluster.jsonl');
  const res = await run(nodeBin, ['--expose-gc', join(fixtures, 'processes.js')], { env: baseEnv({ GCSTATS_FILE: cluster }) });
  assert.equal(res.code, 0, res.stderr);
  const pids = JSON.parse(res.stdout.trim().split('\n').pop());
  const lines = gcLinesFromFile(cluster);
  const text = await gcstatsReport([cluster]);
  assert.equal(text.code, 0, text.stderr);
  const blocks = text.stdout.split('\n\n').filter((b) => b.startsWith('pid '));
  assert.deepEqual(blocks.map((b) => Number(/^pid (\d+),/.exec(b)[1])).sort(), [...pids.node].sort());
  for (const pid of pids.node) {
    const block = blocks.find((b) => b.startsWith(`pid ${pid}, isolate 1 `));
    const exit = byEvent(lines, 'exit').find((l) => l.pid === pid);
    assert.match(block, /, exited\n/);
    assert.match(block, new RegExp(`GCs +${exit.num_full_gc} full, ${exit.num_inc_gc} other`));
    const samples = byEvent(lines, 'stats').filter((l) => l.pid === pid).map((l) => l.current_base);
    const last = /heap after GC +first .*, last ([\d.]+) (kB|MB)/.exec(block);
    assert.ok(close(bytesOf(last[1], last[2]), samples.at(-1), 0.006), block);
  }
});

// PNG (8-bit RGB or RGBA, not interlaced, as chromium writes) to pixels.
function decodePng(buf) {
  assert.equal(buf.toString('latin1', 1, 4), 'PNG');
  let pos = 8;
  let width, height, channels;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth');
      assert.equal(data[12], 0, 'not interlaced');
      channels = { 2: 3, 6: 4 }[data[9]];
      assert.ok(channels, `colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      let p;
      if (filter === 0) p = 0;
      else if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = (v + p) & 255;
    }
  }
  return { width, height, channels, px };
}

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

test('the page in a real browser: the DOM has the charts, the screenshot is not blank', { skip: !chromium && 'chromium is not installed (apt-get install chromium)' }, async () => {
  const { leakyPid } = await made;
  const out = join(dir, 'browser.html');
  assert.equal((await gcstatsReport([log, '-o', out])).code, 0);
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${join(dir, 'chromium')}`];
  const env = baseEnv({}, { preload: false });
  const dom = await run(chromium, [...flags, '--dump-dom', `file://${out}`], { env });
  assert.equal(dom.code, 0, dom.stderr);
  // parsed by the browser: the SVG elements are in the DOM, in their sections
  const section = dom.stdout.split(`id="p${leakyPid}-i1"`)[1].split('</section>')[0];
  assert.equal((section.match(/<svg /g) || []).length, 4);
  assert.match(section, /<polyline class="series" data-name="heap after GC"[^>]* points="[\d., ]{20,}"/);
  assert.match(section, /class="marker leak-marker"/);

  const png = join(dir, 'report.png');
  const shot = await run(chromium, [...flags, '--window-size=800,900', `--screenshot=${png}`, `file://${out}`], { env });
  assert.equal(shot.code, 0, shot.stderr);
  const { width, height, channels, px } = decodePng(readFileSync(png));
  assert.equal(width, 800);
  assert.equal(height, 900);
  const colours = new Set();
  let curve = 0;
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [px[i * channels], px[i * channels + 1], px[i * channels + 2]];
    colours.add((r << 16) | (g << 8) | b);
    // the curves' blue, #0072b2
    if (Math.abs(r - 0x00) < 40 && Math.abs(g - 0x72) < 40 && Math.abs(b - 0xb2) < 40) curve++;
  }
  assert.ok(colours.size > 20, `${colours.size} colours`);
  assert.ok(curve > 200, `${curve} pixels of the curves' colour`);
});
