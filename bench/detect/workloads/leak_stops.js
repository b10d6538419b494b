// A heap leak of ~500 KB/s for 25 s, then no more growth.
const { steadyLoad, heapLeak, reportTrueRate, atEnd, started } = require('./common');
const t = steadyLoad();
const store = [];
const l = heapLeak(store, 500 * 1024);
const stopAt = 25000;
setTimeout(() => clearInterval(l), stopAt);
atEnd(() => { clearInterval(t); reportTrueRate(store, stopAt, { stoppedAtMs: stopAt }); });
