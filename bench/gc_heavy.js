// A GC-heavy workload: short-lived objects (many scavenges) and a slowly
// replaced long-lived set (regular mark-compacts). Prints its own time.
const t0 = process.hrtime.bigint();
const rounds = Number(process.argv[2] || 2e7);
let old = [];
let young = [];
for (let i = 0; i < rounds; i++) {
  young.push({ i, s: 'v' + (i & 1023) });
  if (young.length > 1000) young = [];
  if ((i & 3) === 0) old.push([i, i]);
  if (old.length > 2e5) old = [];
}
console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
