/**
 * `target check`'s logs line: a log file must exist as a readable file; an
 * Elasticsearch must answer and hold the index (a small in-process server
 * speaking the root and `_count` shapes stands in for it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget } from '../../../targets/index.js';
import { checkTarget } from '../index.js';

const PORT = 19652;
const url = `http://127.0.0.1:${PORT}`;
let web: Server;
let dir: string;
const asked: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h6-check-'));
  web = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/') return res.end(JSON.stringify({ version: { number: '8.14.0' }, tagline: 'You Know, for Search' }));
    if (req.url?.startsWith('/app-logs/_count?')) return res.end(JSON.stringify({ count: 42 }));
    if (req.url?.startsWith('/health')) return res.end('{}');
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { type: 'index_not_found_exception' }, status: 404 }));
  });
  await new Promise<void>((ok) => web.listen(PORT, '127.0.0.1', ok));
});

afterAll(async () => {
  await new Promise((r) => web?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function logsLine(logs: string) {
  const t = parseTarget(`name: mine
description: checked
entry:
  url: ${url}
logs: ${logs}
`);
  const lines = await checkTarget(t, { timeoutMs: 10_000, env: {} });
  return lines.find((l) => l.piece === 'logs');
}

describe('target check: logs', () => {
  it('a log file: readable is ok; missing or a directory fails', async () => {
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '{"msg":"hi"}\n');
    expect(await logsLine(`{ kind: file, path: ${file}, id_field: transferId }`)).toMatchObject({ ok: true, detail: `${file} readable` });
    expect(await logsLine(`{ kind: file, path: ${path.join(dir, 'nope.log')} }`)).toMatchObject({ ok: false });
    expect(await logsLine(`{ kind: file, path: ${dir} }`)).toMatchObject({ ok: false, detail: `${dir} is not a readable file` });
  });

  it('Elasticsearch: the index must exist; an unreachable server fails', async () => {
    expect(await logsLine(`{ kind: elasticsearch, url: "${url}", index: app-logs, query: "app:bank" }`)).toMatchObject({
      ok: true,
      detail: `elasticsearch at ${url}: index app-logs, 42 documents`,
    });
    expect(asked).toContain('/app-logs/_count?allow_no_indices=false&ignore_unavailable=false');
    expect(await logsLine(`{ kind: elasticsearch, url: "${url}", index: other-logs }`)).toMatchObject({
      ok: false,
      detail: `elasticsearch at ${url}: index other-logs does not exist`,
    });
    const down = await logsLine(`{ kind: elasticsearch, url: "http://127.0.0.1:19653", index: app-logs }`);
    expect(down).toMatchObject({ ok: false });
    expect(down!.detail).toMatch(/^elasticsearch at http:\/\/127\.0\.0\.1:19653: /);
  });
});
