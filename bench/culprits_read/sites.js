// SITES functions, each on its own line of a generated script (so each is
// its own site in V8's profile), each keeping one small object of every
// ten it allocates: a heap that leaks through all of them at once. Runs
// until killed (bench/culprits_read.mjs ends it at the first culprits line).
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const sites = Number(process.env.SITES || 10);
const file = join(process.env.OUT || require('node:os').tmpdir(), `sites-${sites}-${process.pid}.js`);
const lines = ['"use strict";', 'const kept = [];'];
for (let i = 0; i < sites; i++)
  lines.push(`exports.f${i} = function site${i}(n) { const o = { i: ${i}, n, a: [n, n + 1] }; if (n % 10 === 0) kept.push(o); return o; };`);
writeFileSync(file, lines.join('\n') + '\n');
const mod = require(file);
const fns = Object.values(mod);
// About 2 MB a second allocated, a tenth of it kept, spread over every site.
const perTick = Math.max(1, Math.round(2e6 / 100 / 64 / fns.length));
let n = 0;
setInterval(() => {
  for (const f of fns)
    for (let k = 0; k < perTick; k++) f(n++);
}, 10);
