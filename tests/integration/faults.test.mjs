// Fault injection: many short node processes under the preload, each
// ended in one of the ways an application can end (tests/fixtures/fault.js),
// while Workers allocate and the probe is due often (GCSTATS_PROBE=1, and
// GCSTATS_PROBE_BUDGET=100 so that its CPU budget does not space it out),
// and V8's sampling heap profiler runs in every isolate (GCSTATS_CULPRITS=always:
// an isolate disposed while sampling crashed Node 24).
// gcstats must never crash a process the application did not crash, never
// change its exit status, write only whole JSON lines, one exit line where
// the process can write one and none where it cannot, and no error line.
//
// GCSTATS_FAULT_RUNS sets the number of runs: by default 200 on the
// system node, 40 on another (the version matrix runs 6 node builds). Every failure prints its seed and mode, and
// GCSTATS_FAULT_SEED=S GCSTATS_FAULT_MODE=M replays one run alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, lib, nodeBin, run, baseEnv, tempDir, parseLines, byEvent } from './harness.mjs';

// What each ending must look like from outside. V8's out-of-memory death
// is its own abort(): SIGABRT on Node 18 to 26 (checked on each).
const modes = {
  'exit':        { exitLine: true },
  'worker-exit': { exitLine: true },
  'throw':       { exitLine: true, code: 1 },
  'reject':      { exitLine: true, code: 1 },
  'terminate':   { exitLine: true, code: 0 },
  'dry':         { exitLine: true, code: 0 },
  'sigterm':     { exitLine: false, signal: 'SIGTERM' },
  'sigkill':     { exitLine: false, signal: 'SIGKILL' },
  'abort':       { exitLine: false, signal: 'SIGABRT' },
  'oom':         { exitLine: false, signal: 'SIGABRT', nodeArgs: ['--max-old-space-size=32'] },
};
const modeNames = Object.keys(modes);

const fixture = join(fixtures, 'fault.js');
const RUNS = Number(process.env.GCSTATS_FAULT_RUNS || (process.env.GCSTATS_TEST_NODE ? 40 : 200));
const PARALLEL = 2;
const PROBE_OFTEN = { GCSTATS_PROBE: '1', GCSTATS_PROBE_BUDGET: '100', GCSTATS_CULPRITS: 'always' };
// A run lasts 1.5 s at most by itself; a hang must fail, not block the suite.
const RUN_TIMEOUT_MS = 30000;

function nodeArgs(seed, mode) {
  return [...(modes[mode].nodeArgs || []), fixture, String(seed), mode];
}

function replayCommand(seed, mode) {
  return `GCSTATS_PROBE=1 GCSTATS_PROBE_BUDGET=100 GCSTATS_CULPRITS=always LD_PRELOAD=${lib} ${nodeBin} ${nodeArgs(seed, mode).join(' ')}`;
}

// The exit code the fixture draws from its seed is on its stdout line
// (`end MODE CODE`), so the test does not re-implement the generator.
function problems(seed, mode, res, lines) {
  const want = modes[mode];
  const out = [];
  const said = /^end (\S+) (\d+)$/m.exec(res.stdout);
  if (!said) out.push(`the application did not reach its end (stdout ${JSON.stringify(res.stdout.slice(0, 200))})`);
  if (want.signal) {
    if (res.signal !== want.signal) out.push(`ended by ${res.signal ?? `exit ${res.code}`}, not ${want.signal}`);
  } else {
    const code = want.code ?? (said ? Number(said[2]) : NaN);
    if (res.signal !== null || res.code !== code) out.push(`ended by ${res.signal ?? `exit ${res.code}`}, not exit ${code}`);
  }
  if (lines.error) {
    out.push(lines.error);
    return out;
  }
  const exits = byEvent(lines, 'exit').length;
  if (exits !== (want.exitLine ? 1 : 0)) out.push(`${exits} exit lines`);
  for (const e of byEvent(lines, 'error')) out.push(`error line: ${e.reason}`);
  if (lines.some((l) => l.pid !== res.child.pid)) out.push('a line with another pid');
  const starts = byEvent(lines, 'start').map((l) => l.isolate);
  if (new Set(starts).size !== starts.length) out.push(`start lines for isolates ${starts.join(',')}: one repeated`);
  return out;
}

async function oneRun(seed, mode) {
  const dir = tempDir();
  const file = join(dir, 'gc.jsonl');
  try {
    let res;
    try {
      res = await run(nodeBin, nodeArgs(seed, mode), {
        env: baseEnv({ ...PROBE_OFTEN, GCSTATS_FILE: file }),
        timeoutMs: RUN_TIMEOUT_MS,
      });
    } catch (e) {
      return [`${e.message} (a hang)`];
    }
    let lines;
    try {
      lines = existsSync(file) ? parseLines(readFileSync(file, 'utf8')) : [];
    } catch (e) {
      lines = { error: e.message };
    }
    return problems(seed, mode, res, lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`fault injection: ${process.env.GCSTATS_FAULT_SEED ? 'one replayed run' : `${RUNS} runs`}, ${PARALLEL} at a time`, async (t) => {
  const plan = [];
  if (process.env.GCSTATS_FAULT_SEED) {
    plan.push([Number(process.env.GCSTATS_FAULT_SEED), process.env.GCSTATS_FAULT_MODE || 'exit']);
  } else {
    // Every mode in turn, so that even a short matrix run sees each one.
    const first = randomInt(modeNames.length);
    for (let i = 0; i < RUNS; i++) plan.push([randomInt(2 ** 31), modeNames[(first + i) % modeNames.length]]);
  }
  const perMode = Object.fromEntries(modeNames.map((m) => [m, { runs: 0, failed: 0 }]));
  const failures = [];
  let next = 0;
  async function lane() {
    while (next < plan.length) {
      const [seed, mode] = plan[next++];
      const found = await oneRun(seed, mode);
      perMode[mode].runs++;
      if (found.length > 0) {
        perMode[mode].failed++;
        failures.push(`seed ${seed} mode ${mode}: ${found.join('; ')} (replay: ${replayCommand(seed, mode)})`);
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  const summary = modeNames.filter((m) => perMode[m].runs > 0)
    .map((m) => `${m} ${perMode[m].runs} runs, ${perMode[m].failed} failed`).join('; ');
  t.diagnostic(`${plan.length} runs, ${failures.length} failed: ${summary}`);
  for (const f of failures.slice(0, 20)) t.diagnostic(f);
  // One line: the failures themselves are the diagnostics above.
  assert.equal(failures.length, 0, `${failures.length} of ${plan.length} runs failed (seeds above)`);
});
