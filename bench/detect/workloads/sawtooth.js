// No leak: a cache that fills to ~15 MB over 10 s, then is cleared.
const { steadyLoad, atEnd } = require('./common');
const t = steadyLoad();
let cache = new Map();
let n = 0;
const fill = setInterval(() => {
  for (let i = 0; i < 150; i++) cache.set(n++, { v: 'c'.repeat(64), n });
}, 10);
const clear = setInterval(() => { cache = new Map(); }, 10000);
atEnd(() => { [t, fill, clear].forEach(clearInterval); console.log(JSON.stringify({ end: true })); });
