// A slow heap leak: ~200 KB/s retained, on a heap of about 10 MB.
const { steadyLoad, heapLeak, reportTrueRate, atEnd, started } = require('./common');
const t = steadyLoad();
const store = [];
const l = heapLeak(store, 200 * 1024);
atEnd(() => { clearInterval(t); clearInterval(l); reportTrueRate(store, Date.now() - started); });
