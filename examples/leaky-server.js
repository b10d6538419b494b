// An HTTP server that leaks: one request in 10 leaves a record (~0.45 KB
// of heap) in a "cache" that is never trimmed: ~300 KB a second at the
// ~7,300 requests a second it served itself on a 2-core machine. It drives
// itself with a client on loopback and stops after DURATION seconds
// (default 45). Run it under gcstats:
//   build/cmd/gcstats run -- node examples/leaky-server.js
const http = require('node:http');

const durationMs = Number(process.env.DURATION || 45) * 1000;
const seen = [];   // the leak: grows by a record every 10 requests, forever
let served = 0;

const server = http.createServer((req, res) => {
  const body = JSON.stringify({ url: req.url, at: Date.now(), headers: req.headers });
  if (++served % 10 === 0) seen.push({ body, padding: 'x'.repeat(512) });
  res.setHeader('content-type', 'application/json');
  res.end(body);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let stop = false;
  let requests = 0;
  const client = () => {
    if (stop) return;
    http.get({ host: '127.0.0.1', port, path: `/item/${requests++}`, agent }, (res) => {
      res.resume();
      res.on('end', client);
    }).on('error', () => {});
  };
  for (let i = 0; i < 8; i++) client();
  setTimeout(() => {
    stop = true;
    agent.destroy();
    server.close();
    console.log(`served ${requests} requests, kept ${seen.length} records`);
  }, durationMs);
});
