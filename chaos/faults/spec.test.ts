import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { parseWith, parseYamlWith } from '../../core/validate.js';
import { FaultSpecSchema, FAULT_TYPES } from './spec.js';
import { FAULTS } from './index.js';
import { killCount } from './kill-percentage.js';

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseWith(FaultSpecSchema, input, 'fault');
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('VALIDATION');
    return (e as AppError).issues.map(({ path, message }) => ({ path, message }));
  }
  throw new Error('expected a validation error');
}

describe('FaultSpecSchema', () => {
  it('registers one module per spec type, each with its own schema', () => {
    expect(Object.keys(FAULTS).sort()).toEqual([...FAULT_TYPES].sort());
    for (const t of FAULT_TYPES) expect(FAULTS[t].type).toBe(t);
  });

  it('fills defaults: downstream stream, toxicity 1, jitter 0', () => {
    expect(parseWith(FaultSpecSchema, { type: 'latency', target: 'orders->payments', params: { latencyMs: 100 } }, 'fault')).toEqual({
      type: 'latency',
      target: 'orders->payments',
      params: { latencyMs: 100, jitterMs: 0, stream: 'downstream', toxicity: 1 },
    });
    expect(parseWith(FaultSpecSchema, { type: 'blackhole', target: 'orders->postgres' }, 'fault').params).toEqual({ stream: 'both', toxicity: 1 });
    expect(parseWith(FaultSpecSchema, { type: 'http_abort', target: 'payments', params: { route: '/charge' } }, 'fault').params).toEqual({
      route: '/charge',
      status: 503,
      percentage: 100,
    });
  });

  it.each([
    ['negative latency', { type: 'latency', target: 'orders->payments', params: { latencyMs: -5 } }, 'params.latencyMs', '>= 0'],
    ['toxicity 2', { type: 'latency', target: 'orders->payments', params: { latencyMs: 5, toxicity: 2 } }, 'params.toxicity', '<= 1'],
    ['rate 0', { type: 'bandwidth', target: 'orders->payments', params: { rateKBps: 0 } }, 'params.rateKBps', '> 0'],
    ['percentage over 100', { type: 'kill_percentage', target: 'payments', params: { percentage: 150 } }, 'params.percentage', '<= 100'],
    ['percentage 0', { type: 'http_abort', target: 'payments', params: { percentage: 0 } }, 'params.percentage', '> 0'],
    ['status 200 for an abort', { type: 'http_abort', target: 'payments', params: { status: 200 } }, 'params.status', '400-599'],
    ['unknown type', { type: 'meteor', target: 'x' }, 'type', 'one of latency'],
    ['malformed edge', { type: 'latency', target: 'payments', params: { latencyMs: 5 } }, 'target', 'edge name'],
    ['malformed instance', { type: 'pause', target: 'orders->payments' }, 'target', 'instance id'],
    ['unknown parameter', { type: 'latency', target: 'a->b', params: { latencyMs: 5, delay: 3 } }, 'params', '"delay"'],
    ['empty partition', { type: 'partition', target: [] }, 'target', 'at least one'],
    ['bad partition entry', { type: 'partition', target: ['a->b', 'nonsense'] }, 'target.1', 'edge name'],
    ['string latency', { type: 'latency', target: 'a->b', params: { latencyMs: '100ms' } }, 'params.latencyMs', 'number'],
    ['missing params', { type: 'slow_close', target: 'a->b' }, 'params', 'object'],
  ])('rejects %s naming the field', (_name, input, path, fragment) => {
    const issues = issuesOf(input);
    const hit = issues.find((i) => i.path === path);
    expect(hit, JSON.stringify(issues)).toBeDefined();
    expect(hit!.message).toContain(fragment);
  });

  it('gives YAML line numbers for a fault written in a file', () => {
    const text = ['type: latency', 'target: orders->payments', 'params:', '  latencyMs: 10', '  toxicity: 2', ''].join('\n');
    try {
      parseYamlWith(FaultSpecSchema, text, 'fault.yaml');
      throw new Error('expected failure');
    } catch (e) {
      expect((e as AppError).issues).toEqual([expect.objectContaining({ path: 'params.toxicity', line: 5 })]);
    }
  });
});

describe('killCount', () => {
  it('rounds up, kills at least one and never more than exist', () => {
    expect(killCount(4, 50)).toBe(2);
    expect(killCount(3, 50)).toBe(2);
    expect(killCount(3, 1)).toBe(1);
    expect(killCount(3, 100)).toBe(3);
    expect(killCount(10, 30)).toBe(3);
    expect(killCount(0, 50)).toBe(0);
  });
});
