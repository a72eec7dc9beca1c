import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from './errors.js';
import { parseWith, parseYamlWith } from './validate.js';
import { loadConfig } from './config.js';

function issuesOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

const Schema = z.object({ name: z.string(), faults: z.array(z.object({ latencyMs: z.number().min(0) })) }).strict();

describe('parseYamlWith', () => {
  it('names the field and its line for schema issues', () => {
    const e = issuesOf(() => parseYamlWith(Schema, 'name: x\nfaults:\n  - latencyMs: 5\n  - latencyMs: -1\n', 'exp.yaml'));
    expect(e.code).toBe('VALIDATION');
    expect(e.issues).toEqual([expect.objectContaining({ path: 'faults.1.latencyMs', line: 4 })]);
    expect(e.toText()).toContain('line 4: faults.1.latencyMs');
  });

  it('gives a line for YAML syntax errors', () => {
    const e = issuesOf(() => parseYamlWith(Schema, 'name: x\nfaults: [1, 2\nother: 3\n', 'exp.yaml'));
    expect(e.message).toContain('YAML syntax error');
    expect(e.issues[0].line).toBeGreaterThanOrEqual(2);
  });

  it('reports unknown keys at their line', () => {
    const e = issuesOf(() => parseYamlWith(Schema, 'name: x\nfaults: []\ntypo: 1\n', 'exp.yaml'));
    expect(e.issues[0].message).toMatch(/typo/);
  });

  it('says "required" for a missing field and "empty" for an empty file', () => {
    const e = issuesOf(() => parseYamlWith(Schema, 'faults: []\n', 'exp.yaml'));
    expect(e.issues).toEqual([expect.objectContaining({ path: 'name', message: 'required (string)' })]);
    const empty = issuesOf(() => parseYamlWith(Schema, '\n', 'exp.yaml'));
    expect(empty.issues).toEqual([{ path: '', message: 'the file is empty' }]);
  });

  it('an alias bomb is refused as a field error at the first alias, not expanded (billion laughs)', () => {
    const rows = ['a: &a [x,x,x,x,x,x,x,x,x]'];
    for (const [i, n] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) rows.push(`${n}: &${n} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`);
    const e = issuesOf(() => parseYamlWith(z.any(), rows.join('\n') + '\n', 'bomb.yaml'));
    expect(e.code).toBe('VALIDATION');
    expect(e.issues).toEqual([{ path: 'b.0', message: expect.stringMatching(/too many alias expansions/), line: 2 }]);
  });

  it('an alias to an anchor never set names the alias, its field and line', () => {
    const e = issuesOf(() => parseYamlWith(Schema, 'name: x\nfaults:\n  - latencyMs: 1\n  - latencyMs: *slow\n', 'e.yaml'));
    expect(e.code).toBe('VALIDATION');
    expect(e.issues).toEqual([{ path: 'faults.1.latencyMs', message: expect.stringMatching(/alias \*slow refers to no anchor/), line: 4 }]);
  });

  it('a few ordinary aliases still work', () => {
    expect(parseYamlWith(Schema, 'name: &n x\nfaults:\n  - &f {latencyMs: 5}\n  - *f\n', 'e.yaml')).toEqual({
      name: 'x',
      faults: [{ latencyMs: 5 }, { latencyMs: 5 }],
    });
  });

  it('returns the typed value when valid', () => {
    expect(parseYamlWith(Schema, 'name: x\nfaults: [{latencyMs: 3}]\n', 'exp.yaml')).toEqual({ name: 'x', faults: [{ latencyMs: 3 }] });
  });
});

describe('parseWith and the error table', () => {
  it('maps validation to HTTP 400 and CLI exit 2 with field issues in JSON', () => {
    const e = issuesOf(() => parseWith(Schema, { name: 1, faults: [] }, 'request body'));
    expect(e.httpStatus).toBe(400);
    expect(e.exitCode).toBe(2);
    expect(e.toJSON()).toEqual({ error: { code: 'VALIDATION', message: 'invalid request body', issues: [expect.objectContaining({ path: 'name' })] } });
  });

  it('loadConfig fills embedded defaults and keeps given values', () => {
    const c = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6390' } as unknown as NodeJS.ProcessEnv);
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6390');
    expect(c.TOXIPROXY_URL).toBe('http://127.0.0.1:8474');
    expect(c.ELASTICSEARCH_URL).toBeUndefined();
  });
});
