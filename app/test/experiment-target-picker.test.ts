/**
 * The experiment editor's target picker: the choices are the Targets page's
 * list (shop, then each valid target file), picking one rewrites only the
 * `target:` line, and the validate API then checks the experiment against
 * the chosen target file — a shop scenario, an edge, an instance or an
 * invariant the target does not declare each answered at its field and line.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { readTargetLine, writeTargetLine } from '../_components/target-line.js';
import { loadApiRoutes, sessions, urlOf, type TApiRoute, type TSession } from './route-walk.js';
import { NEW_EXPERIMENT_TEMPLATE } from '../_lib/experiment-template.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let t: Awaited<ReturnType<typeof createTestDatabase>>;
let routes: TApiRoute[];
let viewer: TSession;
const saved = { ...process.env };

const SHOP_TEMPLATE = NEW_EXPERIMENT_TEMPLATE;

beforeAll(async () => {
  t = await createTestDatabase();
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    FAULTLINE_TARGETS_ROOT: repo,
    FAULTLINE_PREFIX: `fltest-picker-${Math.random().toString(36).slice(2, 10)}`,
  });
  routes = await loadApiRoutes();
  ({ viewer } = await sessions(t.db));
});

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await t?.drop();
});

async function validate(yaml: string): Promise<{ status: number; issues: { path: string; message: string; line?: number }[] }> {
  const r = routes.find((x) => x.method === 'POST' && x.pattern === '/api/experiments/validate')!;
  const res = await r.handler(
    new Request(urlOf(r, {}), { method: 'POST', headers: { ...viewer.headers, 'content-type': 'application/json' }, body: JSON.stringify({ yaml }) }),
    { params: Promise.resolve({}) },
  );
  const json = (await res.json()) as { error?: { issues?: { path: string; message: string; line?: number }[] } };
  return { status: res.status, issues: json.error?.issues ?? [] };
}

describe('target line', () => {
  it('reads the target (shop when absent) and rewrites only that line, keeping its comment', () => {
    expect(readTargetLine(SHOP_TEMPLATE)).toBe('shop');
    expect(readTargetLine('name: x\ndescription: y\n')).toBe('shop');
    expect(readTargetLine("name: x\ntarget: 'examples/transfers/target.yaml' # mine\n")).toBe('examples/transfers/target.yaml');
    const picked = writeTargetLine(SHOP_TEMPLATE, 'examples/transfers/target.yaml');
    expect(picked).toBe(SHOP_TEMPLATE.replace('target: shop', 'target: examples/transfers/target.yaml'));
    expect(writeTargetLine('name: x\ntarget: shop # the default\nload: {}\n', 'targets/a b.yaml')).toBe(
      'name: x\ntarget: "targets/a b.yaml" # the default\nload: {}\n',
    );
    // no line yet: after the (multi-line) description
    expect(writeTargetLine('name: x\ndescription: >\n  two\n  lines\nload: {}\n', 'shop')).toBe(
      'name: x\ndescription: >\n  two\n  lines\ntarget: shop\nload: {}\n',
    );
    // nested `target:` keys (a fault's) are not the experiment's
    expect(readTargetLine('name: x\nfaults:\n  - fault:\n      target: orders->payments\n')).toBe('shop');
  });
});

describe('the picker and the validate API', () => {
  it('offers shop and the target files of the Targets page', async () => {
    const { targetChoices } = await import('../_lib/targets.js');
    const choices = await targetChoices();
    expect(choices[0]).toEqual({ value: 'shop', label: expect.stringContaining('shop') });
    expect(choices).toContainEqual({ value: 'examples/transfers/target.yaml', label: 'transfers (examples/transfers/target.yaml)' });
    expect(choices.filter((c) => c.value === 'targets/shop.yaml')).toEqual([]);
  });

  it('the shop template picked for transfers: each thing the target lacks at its field and line', async () => {
    expect((await validate(SHOP_TEMPLATE)).status).toBe(200);
    const r = await validate(writeTargetLine(SHOP_TEMPLATE, 'examples/transfers/target.yaml'));
    expect(r.status).toBe(400);
    expect(r.issues).toEqual(
      expect.arrayContaining([
        {
          path: 'faults.0.fault.target',
          message: expect.stringMatching(/unknown edge "orders->payments"; the target's edges: transfers->postgres, transfers->redis/),
          line: 20,
        },
        { path: 'load.scenario', message: expect.stringMatching(/"checkout-mix" is a shop scenario/), line: 5 },
      ]),
    );
  });

  it('a transfers experiment validates; an unknown instance, invariant or target file is named at its field', async () => {
    const good = SHOP_TEMPLATE.replace('target: shop', 'target: examples/transfers/target.yaml')
      .replace('scenario: checkout-mix', 'scenario: examples/transfers/load.yaml')
      .replace('route: POST /checkout', 'route: POST /transfers')
      .replace(/    fault:\n[\s\S]*?quiescence/, '    fault:\n      type: kill\n      target: transfers-0\nquiescence');
    const ok = await validate(good);
    expect(ok.issues).toEqual([]);
    expect(ok.status).toBe(200);
    const bad = await validate(
      good.replace('target: transfers-0', 'target: transfers-7').replace('quiescence: 10s', 'quiescence: 10s\nexpectations:\n  invariants: [money-lost]'),
    );
    expect(bad.status).toBe(400);
    expect(bad.issues).toEqual(
      expect.arrayContaining([
        { path: 'faults.0.fault.target', message: expect.stringMatching(/unknown instance "transfers-7"; the target's instances: transfers-0/), line: 20 },
        { path: 'expectations.invariants.0', message: expect.stringMatching(/no invariant "money-lost"/), line: 23 },
      ]),
    );
    const missing = await validate(good.replace('examples/transfers/target.yaml', 'examples/nope/target.yaml'));
    expect(missing.status).toBe(400);
    expect(missing.issues).toEqual([{ path: 'target', message: expect.stringMatching(/no target file at .*examples\/nope\/target\.yaml/), line: 3 }]);
  });
});
