// Loopback HTTP server for the load bench, in its own process so it does not
// share a CPU thread with the load generator.
//   node server.mjs trivial          → every request: 200 {"products":[]}
//   node server.mjs stall <cycleMs> <stallMs> <offsetMs>
//        → requests arriving during [start+offset+k·cycle, +stall) are held
//          until the window ends (a GC pause / lock convoy seen from outside)
// Prints {"port":N,"start":epochMs} on stdout once listening.
import { createServer } from 'node:http';

const [mode = 'trivial', cycle = '5000', stall = '1000', offset = '2000'] = process.argv.slice(2);
const body = JSON.stringify({ products: [] });
let start = 0;
const server = createServer((req, res) => {
  req.resume();
  const send = () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (mode !== 'stall') return send();
  const t = Date.now() - start - Number(offset);
  const inCycle = ((t % Number(cycle)) + Number(cycle)) % Number(cycle);
  if (t >= 0 && inCycle < Number(stall)) setTimeout(send, Number(stall) - inCycle);
  else send();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  start = Date.now();
  process.stdout.write(`${JSON.stringify({ port: server.address().port, start })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
