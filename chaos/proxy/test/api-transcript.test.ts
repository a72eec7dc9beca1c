/**
 * Replays the 48 calls recorded from the real Toxiproxy 2.12.0 and compares
 * status, content type and body (field order included). Ports the real
 * server picked for `:0` are mapped to the ones this server picked; the fixed
 * port 21001 of the recording is swapped for a free one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, withFaultProxy } from './helpers.js';

interface TCall {
  method: string;
  path: string;
  request?: unknown;
  status: number;
  contentType: string | null;
  response: unknown;
}

// A copy of the shared recording (fixtures/toxiproxy/api-transcript.json, real toxiproxy-server 2.12.0), kept here so CI needs nothing outside the repo.
const transcript = JSON.parse(readFileSync(new URL('./fixtures/toxiproxy-2.12.0-api-transcript.json', import.meta.url), 'utf8')) as TCall[];

function mapPorts(s: string, ports: Map<string, string>): string {
  return s.replace(/127\.0\.0\.1:(\d+)/g, (m, p: string) => (ports.has(p) ? `127.0.0.1:${ports.get(p)}` : m));
}

describe('Toxiproxy 2.12 transcript replay', () => {
  it('answers all recorded calls with the same status, content type and body', async () => {
    expect(transcript.length).toBe(48);
    const fixed = String(await freePort());
    const ports = new Map<string, string>([['21001', fixed]]);
    await withFaultProxy(async (fp) => {
      for (const [i, call] of transcript.entries()) {
        const reqText =
          call.request === undefined ? undefined : typeof call.request === 'string' ? call.request : mapPorts(JSON.stringify(call.request), ports);
        const res = await fetch(fp.url + call.path, { method: call.method, body: reqText, headers: { 'User-Agent': 'faultline-test' } });
        const text = await res.text();
        const where = `call ${i}: ${call.method} ${call.path} ${reqText ?? ''}`;
        expect(res.status, where).toBe(call.status);
        expect(res.headers.get('content-type'), where).toBe(call.contentType);
        if (typeof call.response === 'string') {
          expect(text, where).toBe(call.response);
          continue;
        }
        const actual = JSON.parse(text) as unknown;
        // learn the ports this server picked where the recording asked for :0
        const reqs = Array.isArray(call.request) ? call.request : [call.request];
        const got = (Array.isArray(actual) ? actual : ((actual as { proxies?: unknown[] })?.proxies ?? [actual])) as { listen?: string }[];
        const want = (Array.isArray(call.response) ? call.response : ((call.response as { proxies?: unknown[] })?.proxies ?? [call.response])) as {
          listen?: string;
        }[];
        reqs.forEach((rq, k) => {
          const listen = (rq as { listen?: string } | undefined)?.listen;
          if (listen?.endsWith(':0') && got[k]?.listen && want[k]?.listen) ports.set(want[k].listen!.split(':')[1], got[k].listen!.split(':')[1]);
        });
        // exact JSON text after port mapping: same keys, same order, same values
        expect(JSON.stringify(actual), where).toBe(mapPorts(JSON.stringify(call.response), ports));
        if (call.contentType?.startsWith('text/plain')) expect(text.endsWith('}\n'), `${where}: http.Error adds a newline`).toBe(true);
      }
    });
  });
});
