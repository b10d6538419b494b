// Runs a real node (or any program) under the preload and collects its
// gcstats lines. The test runner itself runs without the preload.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const fixtures = join(here, '..', 'fixtures');
export const lib = process.env.GCSTATS_LIB;
// The node under test; the version-matrix runner points this elsewhere.
export const nodeBin = process.env.GCSTATS_TEST_NODE || process.execPath;
export const nodeMajor = Number(process.env.GCSTATS_TEST_NODE_MAJOR || process.versions.node.split('.')[0]);

if (!lib || !existsSync(lib)) throw new Error(`GCSTATS_LIB must name the built libgcstats.so (got ${lib})`);

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'gcstats-test-'));
}

// Cleans the environment of anything gcstats reads, so that the caller
// says exactly what the child gets.
export function baseEnv(extra = {}, { preload = true } = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GCSTATS_') || k === 'LD_PRELOAD' || k === 'NODE_OPTIONS') delete env[k];
  if (preload) env.LD_PRELOAD = lib;
  return { ...env, ...extra };
}

// Spawns and waits; resolves with { code, signal, stdout, stderr, ms }.
export function run(cmd, args, { env, stdio, timeoutMs = 120000, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: stdio || ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr?.setEncoding('utf8').on('data', (d) => { stderr += d; });
    // A hang fails with what the program said last, to show where it was.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; its stderr ended with: ${stderr.slice(-1500)}`));
    }, timeoutMs);
    onSpawn?.(child);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6, child });
    });
  });
}

// Every line must be a whole JSON object: a torn or interleaved line fails
// here. So does a line that contradicts itself: resident memory now above
// the peak resident memory.
export function parseLines(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let parsed;
    try { parsed = JSON.parse(line); } catch (e) { throw new Error(`not a JSON line: ${JSON.stringify(line)}`); }
    if (typeof parsed.rss === 'number' && typeof parsed.rss_peak === 'number' && parsed.rss > parsed.rss_peak) {
      throw new Error(`rss ${parsed.rss} above rss_peak ${parsed.rss_peak}: ${line.slice(0, 200)}`);
    }
    out.push(parsed);
  }
  return out;
}

export function gcLinesFromFile(path) {
  return parseLines(readFileSync(path, 'utf8'));
}

// Runs node under the preload with its lines appended to a file.
export async function runNodeWithLines(args, { env = {}, timeoutMs } = {}) {
  const dir = tempDir();
  const file = join(dir, 'gc.jsonl');
  const res = await run(nodeBin, args, { env: baseEnv({ GCSTATS_FILE: file, ...env }), timeoutMs });
  res.lines = existsSync(file) ? gcLinesFromFile(file) : [];
  return res;
}

// Runs node under the preload until its lines so far satisfy
// until(lines, ms), then sends it SIGUSR2 (a fixture that runs "until
// signalled" finishes then) and waits for it to end. A test that waits for
// events, not for a span of time: a slow machine makes it longer, never
// false. timeoutMs only guards against a hang.
export async function runNodeUntil(args, until, { env = {}, timeoutMs = 90000 } = {}) {
  const dir = tempDir();
  const file = join(dir, 'gc.jsonl');
  let poll;
  let failure;
  const res = await run(nodeBin, args, {
    env: baseEnv({ GCSTATS_FILE: file, ...env }),
    timeoutMs,
    onSpawn: (child) => {
      const started = Date.now();
      poll = setInterval(() => {
        try {
          const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
          const whole = text.slice(0, text.lastIndexOf('\n') + 1);  // a line being written waits
          if (until(parseLines(whole), Date.now() - started)) {
            clearInterval(poll);
            child.kill('SIGUSR2');
          }
        } catch (e) {
          // A bad line (or a predicate that throws) fails the test now, not at the hang guard.
          clearInterval(poll);
          failure = e;
          child.kill('SIGKILL');
        }
      }, 100);
      child.on('close', () => clearInterval(poll));
    },
  });
  if (failure) throw failure;
  res.lines = existsSync(file) ? gcLinesFromFile(file) : [];
  return res;
}

// --trace-gc lines, counted per isolate address and kind. The names vary:
// "Mark-sweep" (V8 10), "Mark-Compact" (11-13), "Incremental Mark-Compact"
// (14), "Minor Mark-Sweep"/"Minor Mark-Compact"; a name not known here is
// reported in `unknown` so that a test fails loudly instead of miscounting.
export function traceCounts(stdout) {
  const per = new Map();
  const unknown = [];
  const re = /^\[(\d+):(0x[0-9a-f]+)\]\s+\d+ ms: ([A-Za-z][A-Za-z -]*?)(?: \(.*?\))? \d/;
  for (const line of stdout.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const key = m[2];
    if (!per.has(key)) per.set(key, { scavenge: 0, minor_ms: 0, mark_compact: 0 });
    const c = per.get(key);
    const name = m[3];
    if (/Minor/.test(name)) c.minor_ms++;
    else if (/Scavenge/.test(name)) c.scavenge++;
    else if (/Mark-(Compact|sweep|Sweep)/.test(name)) c.mark_compact++;
    else unknown.push(line);
  }
  per.unknown = unknown;
  return per;
}

export function byEvent(lines, event) {
  return lines.filter((l) => l.event === event);
}

// Gathers a spawned child's stdout and stderr (both piped); until(what,
// pred) resolves once pred holds over what it has written, and rejects
// after hangGuardMs, naming `name` and showing the output.
export function watchOutput(child, name, hangGuardMs) {
  const seen = { stdout: '', stderr: '' };
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) if (w.pred(seen)) { waiters.splice(waiters.indexOf(w), 1); clearTimeout(w.timer); w.resolve(); }
  };
  child.stdout.setEncoding('utf8').on('data', (d) => { seen.stdout += d; check(); });
  child.stderr.setEncoding('utf8').on('data', (d) => { seen.stderr += d; check(); });
  return {
    child, seen,
    until(what, pred) {
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.timer = setTimeout(() => reject(new Error(`${name} never showed ${what}; stdout:\n${seen.stdout}\nstderr:\n${seen.stderr}`)), hangGuardMs);
        waiters.push(w);
        check();
      });
    },
  };
}
