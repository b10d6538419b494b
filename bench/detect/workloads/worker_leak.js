// A heap leak inside a Worker (isolate 2); the main thread is steady.
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
if (isMainThread) {
  const { steadyLoad, atEnd } = require('./common');
  const t = steadyLoad();
  const w = new Worker(__filename)   // --expose-gc is process-wide: gc() exists here too;
  w.on('message', (m) => console.log(JSON.stringify({ ...m, isolate: 2 })));
  atEnd(() => { clearInterval(t); w.postMessage('stop'); });
} else {
  const { steadyLoad, heapLeak, reportTrueRate, started } = require('./common');
  const t = steadyLoad({ perTick: 5 });
  const store = [];
  const l = heapLeak(store, 300 * 1024);
  parentPort.on('message', () => {
    clearInterval(t); clearInterval(l);
    const log = console.log;
    console.log = (s) => parentPort.postMessage(JSON.parse(s));
    reportTrueRate(store, Date.now() - started);
    console.log = log;
    parentPort.close();
  });
}
