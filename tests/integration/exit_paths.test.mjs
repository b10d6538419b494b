// One exit line, with the final counters, however the process ends; the
// application's exit code is unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixtures, runNodeWithLines, byEvent } from './harness.mjs';

const cases = [
  ['normal end of script', 'normal', 0],
  ['end of the event loop', 'timer', 0],
  ['process.exit(3)', 'exit', 3],
  ['uncaught exception', 'throw', 1],
  ['unhandled rejection', 'reject', 1],
];

for (const [name, mode, code] of cases) {
  test(name, async () => {
    const res = await runNodeWithLines(['--expose-gc', join(fixtures, 'exit_modes.js'), mode]);
    assert.equal(res.code, code, res.stderr);
    const exits = byEvent(res.lines, 'exit');
    assert.equal(exits.length, 1);
    const exit = exits[0];
    assert.equal(res.lines[res.lines.length - 1], exit, 'exit is the last line');
    assert.equal(exit.isolate, 1);
    assert.equal(exit.pid, res.child.pid);
    const stats = byEvent(res.lines, 'stats');
    assert.ok(stats.length >= 2);
    assert.ok(stats.slice(-2).every((s) => s.forced), 'gc() is flagged as forced');
    assert.equal(exit.num_full_gc, stats[stats.length - 1].num_full_gc);
    assert.ok(exit.rss > 10e6, `rss ${exit.rss}`);
    assert.equal(byEvent(res.lines, 'start').length, 1);
    if (mode === 'throw') assert.match(res.stderr, /uncaught on purpose/);
  });
}
