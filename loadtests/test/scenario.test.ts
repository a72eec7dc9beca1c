import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { loadScenarioByName, loadScenarioFile, parseScenario, withOverrides } from '../scenario.js';

const dir = path.join(import.meta.dirname, '..', 'scenarios');

function issues(text: string) {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).issues;
  }
  throw new Error('expected a validation error');
}

const ok = `name: t
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 5, duration: 2s, preAllocatedVUs: 2 }
`;

describe('scenario files', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('ships a valid %s', async (f) => {
    const s = await loadScenarioFile(path.join(dir, f));
    expect(s.name).toBe(f.replace(/\.yaml$/, ''));
  });

  it('applies k6 defaults (timeUnit 1s, gracefulStop 30s, maxVUs = preAllocatedVUs, timeout 60s)', () => {
    const s = parseScenario(ok);
    expect(s.load).toMatchObject({ timeUnit: '1s', gracefulStop: '30s' });
    expect(s.http.timeout).toBe('60s');
    expect(s.setup).toEqual({ users: 10, products: 5 });
  });

  it('names the field and its line for a bad executor parameter', () => {
    const i = issues(`name: t
mix: { browse: 1 }
load:
  executor: constant-arrival-rate
  rate: -3
  duration: 2s
  preAllocatedVUs: 2
`);
    expect(i).toEqual([expect.objectContaining({ path: 'load.rate', line: 5 })]);
  });

  it('rejects maxVUs below preAllocatedVUs and durations under 1 s', () => {
    const i = issues(`name: t
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 5, duration: 500ms, preAllocatedVUs: 4, maxVUs: 2 }
`);
    expect(i.map((x) => x.path).sort()).toEqual(['load.duration', 'load.maxVUs']);
  });

  it('rejects an unknown executor and unknown fields', () => {
    expect(issues(ok.replace('constant-arrival-rate', 'per-vu-iterations'))[0].path).toBe('load.executor');
    expect(issues(`${ok}bogus: 1\n`)[0].message).toMatch(/bogus/);
  });

  it('checks thresholds: unknown metric, wrong aggregation, bad syntax — each with its line', () => {
    const i = issues(`${ok}thresholds:
  http_req_durashun: ['p(95)<300']
  http_req_failed: ['p(95)<0.1']
  http_req_duration{name:checkout}: ['p95<300']
`);
    expect(i).toEqual([
      expect.objectContaining({ path: 'thresholds.http_req_durashun', line: 5, message: expect.stringMatching(/unknown metric/) }),
      expect.objectContaining({ path: 'thresholds.http_req_failed.0', line: 6, message: expect.stringMatching(/not an aggregation of rate/) }),
      expect.objectContaining({ path: 'thresholds.http_req_duration{name:checkout}.0', line: 7 }),
    ]);
  });

  it('needs users for checkouts', () => {
    expect(issues(ok.replace('{ browse: 1 }', '{ checkout: 1 }').concat('setup: { users: 0 }\n'))[0].path).toBe('setup.users');
  });

  it('reports YAML syntax errors as a validation error', () => {
    expect(issues('name: [unclosed\nmix: 1\n')[0].message).toMatch(/flow|end|unclosed|expected/i);
  });

  it('loads shipped scenarios by name and caps VUs', async () => {
    const s = await loadScenarioByName('checkout-mix');
    expect(s.name).toBe('checkout-mix');
    expect(withOverrides(s, { vus: 10 }).load).toMatchObject({ maxVUs: 10, preAllocatedVUs: 10 });
    await expect(loadScenarioByName('../etc/passwd')).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(loadScenarioByName('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('derives overrides without mutating, and refuses ones that do not apply', () => {
    const s = parseScenario(ok);
    const o = withOverrides(s, { rate: 50, duration: '10s', baseUrl: 'http://127.0.0.1:9' });
    expect(o.load).toMatchObject({ rate: 50, duration: '10s', preAllocatedVUs: 20 });
    expect(o.baseUrl).toBe('http://127.0.0.1:9');
    expect(s.load).toMatchObject({ rate: 5, duration: '2s' });
    const ramp = parseScenario(`name: r
mix: { browse: 1 }
load: { executor: ramping-vus, stages: [{ duration: 2s, target: 2 }] }
`);
    expect(() => withOverrides(ramp, { rate: 3 })).toThrow(AppError);
    try {
      withOverrides(s, { duration: 'soon' });
    } catch (e) {
      expect((e as AppError).issues[0].path).toBe('duration');
    }
  });
});
