// A workload that maps and unmaps all the time: every array below is a
// large object (over V8's ~128 KiB regular-object limit), which V8 gives
// its own mapping and unmaps when the array dies. Prints its own time.
const t0 = process.hrtime.bigint();
let keep = [];
let maps = 0;
for (let round = 0; round < 100; round++) {
  for (let i = 0; i < 40; i++) {
    keep.push(new Array(40000 + i).fill(round));   // ~320 KiB each
    maps++;
  }
  if (keep.length > 200) keep = keep.slice(-40);
}
console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, arrays: maps }));
