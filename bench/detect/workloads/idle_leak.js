// A mostly idle process that leaks slowly: one small timer a second,
// retaining ~20 KB each time.
const { reportTrueRate, atEnd, started } = require('./common');
const store = [];
const l = setInterval(() => {
  for (let i = 0; i < 170; i++) store.push({ a: i, b: 'idle', c: [i, i + 1] });   // culprit: run.mjs expects the top site here
}, 1000);
atEnd(() => { clearInterval(l); reportTrueRate(store, Date.now() - started); });
