// A fast heap leak: ~2 MB/s retained.
const { steadyLoad, heapLeak, reportTrueRate, atEnd, started } = require('./common');
const t = steadyLoad();
const store = [];
const l = heapLeak(store, 2 * 1024 * 1024);
atEnd(() => { clearInterval(t); clearInterval(l); reportTrueRate(store, Date.now() - started); });
