// Loaded with --require by bench/probe.mjs: the process's CPU time (every
// thread, user + system) as one JSON line on stderr when it exits.
'use strict';
process.on('exit', () => {
  const u = process.cpuUsage();
  process.stderr.write(JSON.stringify({ cpu_at_exit: { cpu_s: (u.user + u.system) / 1e6 } }) + '\n');
});
