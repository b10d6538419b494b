// A leak outside the V8 heap: ~1.6 MB/s of Buffers retained; the heap
// itself stays nearly flat.
const { steadyLoad, reportTrueRate, atEnd, started } = require('./common');
const t = steadyLoad();
const store = [];
const l = setInterval(() => { for (let i = 0; i < 10; i++) store.push(Buffer.alloc(16384, 1)); }, 100);
// External memory is freed lazily, so the true rate is counted, not measured.
atEnd(() => {
  clearInterval(t); clearInterval(l);
  const growMs = Date.now() - started;
  reportTrueRate(store.slice(), growMs, { externalRate: (store.length * 16384) / (growMs / 1000) });
});
