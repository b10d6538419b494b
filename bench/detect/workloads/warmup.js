// No leak: grows for 8 s (a lookup table being built), then stays flat.
const { steadyLoad, atEnd } = require('./common');
const t = steadyLoad();
const table = [];
const grow = setInterval(() => {
  for (let i = 0; i < 300; i++) table.push({ key: 'k' + table.length, v: [table.length] });
}, 10);
setTimeout(() => clearInterval(grow), 8000);
atEnd(() => { clearInterval(t); console.log(JSON.stringify({ end: true, table: table.length })); });
