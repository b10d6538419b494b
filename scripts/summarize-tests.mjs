// Reads meson's testlog.json files and prints one closing line,
// "N passed, N failed", counting each meson test once.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const path of process.argv.slice(2)) {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    if (t.result === 'OK' || t.result === 'EXPECTEDFAIL') passed++;
    else if (t.result === 'SKIP') skipped++;
    else failed++;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
