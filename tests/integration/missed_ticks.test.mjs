// Ticks that could not be made while the writer was stalled are counted in
// `dropped`: every period of the tick grid is a tick line or a drop. The
// stall here is the whole process stopped (SIGSTOP) for two seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, nodeBin, run, baseEnv, tempDir, parseLines } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PERIOD_MS = 100;

function ticks(file) {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"event":"tick"')).length : 0;
}

async function waitFor(what, ok, timeoutMs = 20000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(20)) if (ok()) return;
  throw new Error(`timed out waiting for ${what}`);
}

test('a stall of the writer: every tick period is a tick line or counted as dropped', async () => {
  const file = join(tempDir(), 'gc.jsonl');
  let child;
  const done = run(nodeBin, [join(fixtures, 'until_stdin.js')], {
    env: baseEnv({ GCSTATS_FILE: file, GCSTATS_INTERVAL: String(PERIOD_MS / 1000), GCSTATS_PROBE: '0' }),
    stdio: ['pipe', 'pipe', 'pipe'],
    onSpawn: (c) => { child = c; },
  });
  await waitFor('ticks', () => ticks(file) >= 5);
  child.kill('SIGSTOP');
  await sleep(2000);
  child.kill('SIGCONT');
  const before = ticks(file);
  await waitFor('ticks after the stall', () => ticks(file) >= before + 5);
  child.stdin.end();
  const res = await done;
  assert.equal(res.code, 0, res.stderr);

  const lines = parseLines(readFileSync(file, 'utf8'));
  const tickLines = lines.filter((l) => l.event === 'tick');
  const firstLine = tickLines[0];
  const lastLine = tickLines[tickLines.length - 1];
  const first = Date.parse(firstLine.ts);
  const last = Date.parse(lastLine.ts);
  // Each tick line stands for the latest grid point at or before its time
  // (a tick made later than that is counted as missed, in the dropped of the
  // line itself), so the grid points after the first line's, up to the last
  // line's time, are the later tick lines and the drops between. Nothing
  // else is dropped here (no GC lines to speak of, a fast file), and the
  // timestamps are whole milliseconds.
  const accounted = tickLines.length - 1 + lastLine.dropped - firstLine.dropped;
  const low = Math.floor((last - first - 2) / PERIOD_MS);
  const high = Math.floor((last - first + 2) / PERIOD_MS) + 1;
  assert.ok(accounted >= low && accounted <= high,
    `${tickLines.length - 1} tick lines + ${lastLine.dropped - firstLine.dropped} dropped after the first, ` +
    `over ${last - first} ms of ${PERIOD_MS} ms periods: want ${low} to ${high}`);
  assert.ok(lastLine.dropped >= 10, `the stall's ticks are counted (${lastLine.dropped})`);
});
