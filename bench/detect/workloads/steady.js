// No leak: a steady request loop with a bounded cache.
const { steadyLoad, atEnd } = require('./common');
const t = steadyLoad();
atEnd(() => { clearInterval(t); console.log(JSON.stringify({ end: true })); });
