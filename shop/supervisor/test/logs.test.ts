import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LogRing } from '../logs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('LogRing', () => {
  it('pages lines in order by cursor', () => {
    const ring = new LogRing({ capacity: 10 });
    for (let i = 1; i <= 5; i++) ring.push('payments-0', 'payments', `{"n":${i}}`);
    const p1 = ring.read(0, 2);
    expect(p1.lines.map((l) => l.cursor)).toEqual([1, 2]);
    expect(p1.next).toBe(2);
    const p2 = ring.read(p1.next, 100);
    expect(p2.lines.map((l) => JSON.parse(l.line).n)).toEqual([3, 4, 5]);
    expect(ring.read(p2.next).lines).toEqual([]);
    expect(ring.read(p2.next).next).toBe(5);
  });

  it('drops the oldest lines past capacity and resumes from the oldest kept', () => {
    const ring = new LogRing({ capacity: 3 });
    for (let i = 1; i <= 7; i++) ring.push('a-0', 'a', `{"n":${i}}`);
    expect(ring.read(0).lines.map((l) => l.cursor)).toEqual([5, 6, 7]);
    // a client of a previous supervisor (cursor beyond the end) is brought back to the end
    expect(ring.read(99).next).toBe(7);
  });

  it('collects stdout JSON lines as-is and wraps stderr text, and writes per-instance files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-logs-'));
    dirs.push(dir);
    const ring = new LogRing({ dir });
    const out = new PassThrough();
    const err = new PassThrough();
    ring.attach('orders-1', 'orders', out, err);
    out.write('{"level":"info","msg":"hello","service":"orders"}\n{"level":"info","msg":"split');
    out.write(' line"}\n\n');
    err.write('TypeError: boom\n');
    out.end();
    err.end();
    await new Promise((r) => setTimeout(r, 50));
    const lines = ring.read().lines;
    expect(lines.map((l) => JSON.parse(l.line).msg).sort()).toEqual(['TypeError: boom', 'hello', 'split line']);
    expect(lines.every((l) => l.instance === 'orders-1' && l.service === 'orders')).toBe(true);
    const stderrLine = JSON.parse(lines.find((l) => l.line.includes('boom'))!.line);
    expect(stderrLine).toMatchObject({ level: 'warn', source: 'stderr', instance: 'orders-1' });
    await ring.close();
    const file = readFileSync(path.join(dir, 'orders-1.log'), 'utf8').trim().split('\n');
    expect(file).toHaveLength(3);
  });
});
