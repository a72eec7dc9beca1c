/**
 * The upstream of the proxy benchmark, run as its own process so the proxy
 * and the client do not share its event loop. Two servers on random ports,
 * printed as one JSON line: `echo` (ping-pong) and `source` (on connect,
 * streams the number of bytes the client asks for as an 8-byte length, then ends).
 */
import net, { type AddressInfo } from 'node:net';

const block = Buffer.alloc(1 << 20, 0x61);

const echo = net.createServer({ noDelay: true }, (s) => {
  s.on('error', () => undefined);
  s.pipe(s);
});

const source = net.createServer({ noDelay: true }, (s) => {
  s.on('error', () => undefined);
  s.once('data', (head: Buffer) => {
    let left = Number(head.readBigUInt64BE(0));
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!s.write(n === block.length ? block : block.subarray(0, n))) {
          s.once('drain', pump);
          return;
        }
      }
      s.end();
    };
    pump();
  });
});

await Promise.all([echo, source].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))));
process.stdout.write(`${JSON.stringify({ echo: (echo.address() as AddressInfo).port, source: (source.address() as AddressInfo).port })}\n`);
process.on('SIGTERM', () => process.exit(0));
