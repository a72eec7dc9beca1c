import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { breakerMapping, capabilities, interpolateEnv, listedEdges, loadTarget, parseTarget, TARGETS_DIR } from '../index.js';

const minimal = `name: mine
description: a service with a database
entry:
  url: http://127.0.0.1:9000
databases:
  main:
    url_env: MINE_DATABASE_URL
invariants:
  - name: balance-non-negative
    database: main
    description: no account below zero
    sql: SELECT id FROM accounts WHERE balance < 0
`;

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).issues;
  }
  throw new Error('expected a validation error');
}

describe('target file', () => {
  it('the shipped shop target is a valid target file, with every capability', async () => {
    const { target } = await loadTarget('shop');
    expect(target.name).toBe('shop');
    expect(Object.values(capabilities(target)).every(Boolean)).toBe(true);
    expect(target.invariants.map((i) => i.name)).toContain('stock-conserved');
    expect(breakerMapping(target.metrics!.breakers!).metric).toBe('circuit_breaker_state');
  });

  it('a minimal file parses and offers only what it declares', () => {
    const t = parseTarget(minimal);
    expect(capabilities(t)).toMatchObject({ networkFaults: false, processFaults: false, consistency: true, breakers: false });
  });

  it('a bad field is named with its line', async () => {
    const text = minimal.replace('url: http://127.0.0.1:9000', 'url: ftp://example');
    const issues = issuesOf(() => parseTarget(text, 'mine.yaml'));
    expect(issues[0]).toMatchObject({ path: 'entry.url', line: 4 });
  });

  it('an invariant that writes, or names an unknown database, is refused at its field', () => {
    const text = minimal
      .replace('database: main\n    description', 'database: other\n    description')
      .replace('SELECT id FROM accounts WHERE balance < 0', 'DELETE FROM accounts');
    const issues = issuesOf(() => parseTarget(text));
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('invariants.0.sql');
    expect(issues.find((i) => i.path === 'invariants.0.sql')!.message).toMatch(/SELECT/);
  });

  it("text inside an invariant's string literals is not SQL: a ';' or a write word there is allowed, outside it is refused", () => {
    const literal = parseTarget(
      minimal.replace('SELECT id FROM accounts WHERE balance < 0', "SELECT id, 'below zero; delete it' AS why FROM accounts WHERE balance < 0"),
    );
    expect(literal.invariants[0]!.sql).toContain('delete it');
    const two = issuesOf(() => parseTarget(minimal.replace('WHERE balance < 0', 'WHERE balance < 0; SELECT 1')));
    expect(two).toEqual([expect.objectContaining({ path: 'invariants.0.sql', message: 'one statement only' })]);
  });

  it('an invariant with measure but no key is refused at measure', () => {
    const issues = issuesOf(() => parseTarget(minimal.replace('sql: SELECT id FROM', 'measure: balance\n    sql: SELECT id, balance FROM'), 'mine.yaml'));
    expect(issues).toEqual([expect.objectContaining({ path: 'invariants.0.measure', message: expect.stringMatching(/add key/) })]);
    const ok = parseTarget(minimal.replace('sql: SELECT id FROM', 'key: [id]\n    measure: balance\n    sql: SELECT id, balance FROM'));
    expect(ok.invariants[0]).toMatchObject({ key: ['id'], measure: 'balance' });
  });

  it('final_states need an SQL confirm (the state column): with a GET confirm they are refused at their field', () => {
    const withAck = (confirm: string) =>
      `${minimal}acknowledged:\n  - route: POST /transfers\n    status: [201]\n    id: $.id\n    confirm:\n${confirm}\n    final_states: [settled]\n    changed_by: [POST /transfers/:id/cancel]\n`;
    const issues = issuesOf(() => parseTarget(withAck('      get: /transfers/{id}')));
    expect(issues).toEqual([expect.objectContaining({ path: 'acknowledged.0.final_states', message: expect.stringMatching(/confirm with database \+ sql/) })]);
    const ok = parseTarget(withAck('      database: main\n      sql: SELECT id, status AS state FROM transfers WHERE id = ANY($1)'));
    expect(ok.acknowledged[0]).toMatchObject({ final_states: ['settled'], changed_by: ['POST /transfers/:id/cancel'] });
  });

  it('the history check (failed / unknown) needs the write key and its parameters, each refused at its field with its line', () => {
    const withAck = (extra: string, confirm = '      database: main\n      sql: SELECT id FROM transfers WHERE id = ANY($1)') =>
      `${minimal}acknowledged:\n  - route: POST /transfers\n    status: [201]\n    id: $.id\n    confirm:\n${confirm}\n${extra}`;
    const failed = '    failed:\n      sql: SELECT key FROM transfers WHERE key = ANY($1)\n';
    const noKey = issuesOf(() => parseTarget(withAck(failed), 'mine.yaml'));
    expect(noKey).toEqual([expect.objectContaining({ path: 'acknowledged.0.key', message: expect.stringMatching(/add key/) })]);
    const badKey = issuesOf(() => parseTarget(withAck(`    key: Idempotency-Key\n${failed}`), 'mine.yaml'));
    expect(badKey).toEqual([expect.objectContaining({ path: 'acknowledged.0.key', line: 20, message: expect.stringMatching(/header <name>/) })]);
    const noStart = issuesOf(() =>
      parseTarget(withAck('    key: header Idempotency-Key\n    unknown:\n      sql: SELECT key FROM transfers WHERE NOT (key = ANY($1))\n')),
    );
    expect(noStart).toEqual([expect.objectContaining({ path: 'acknowledged.0.unknown.sql', message: expect.stringMatching(/\$1 and \$2/) })]);
    const getConfirm = issuesOf(() => parseTarget(withAck(`    key: header Idempotency-Key\n${failed}`, '      get: /transfers/{id}')));
    expect(getConfirm).toEqual([expect.objectContaining({ path: 'acknowledged.0.failed', message: expect.stringMatching(/name the database/) })]);
    const otherDb = issuesOf(() =>
      parseTarget(withAck('    key: header Idempotency-Key\n    failed:\n      database: nope\n      sql: SELECT key FROM t WHERE key = ANY($1)\n')),
    );
    expect(otherDb).toEqual([expect.objectContaining({ path: 'acknowledged.0.failed.database', message: expect.stringMatching(/no database "nope"/) })]);
    const agreeGet = issuesOf(() => parseTarget(withAck('    agree: { amount: $.amount }\n', '      get: /transfers/{id}')));
    expect(agreeGet).toEqual([expect.objectContaining({ path: 'acknowledged.0.agree', message: expect.stringMatching(/columns of confirm.sql/) })]);
    const ok = parseTarget(withAck(`    key: header Idempotency-Key\n${failed}`));
    expect(ok.acknowledged[0]).toMatchObject({ key: 'header Idempotency-Key', failed: { sql: expect.stringContaining('ANY($1)') } });
  });

  it('a trail query needs $1 (the ids) and a known database, each refused at its field', () => {
    const issues = issuesOf(() =>
      parseTarget(
        `${minimal}trails:\n  - database: main\n    sql: SELECT now() AS at, 'x' AS text\n  - database: nope\n    sql: SELECT 1 WHERE 'a' = ANY($1)\n`,
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({ path: 'trails.0.sql', message: expect.stringMatching(/\$1/) }),
      expect.objectContaining({ path: 'trails.1.database', message: expect.stringMatching(/no database "nope"/) }),
    ]);
    const ok = parseTarget(`${minimal}trails:\n  - database: main\n    source: ledger\n    sql: SELECT at, text FROM ledger WHERE id = ANY($1)\n`);
    expect(ok.trails).toEqual([{ database: 'main', source: 'ledger', sql: 'SELECT at, text FROM ledger WHERE id = ANY($1)' }]);
  });

  it("listed proxies are the target's edges, per-instance proxies folded into one", () => {
    const t = parseTarget(
      minimal.replace(
        'entry:\n',
        'edges:\n  toxiproxy: http://127.0.0.1:8474\n  proxies:\n    - { name: "api->redis#0" }\n    - { name: "api->redis#1" }\n    - { name: "api->pg" }\nentry:\n',
      ),
    );
    expect(listedEdges(t)).toEqual([
      { name: 'api->redis', from: 'api', to: 'redis' },
      { name: 'api->pg', from: 'api', to: 'pg' },
    ]);
  });

  it('a proxy with listen but no upstream, and pause without resume, are named', () => {
    const text = `${minimal}edges:
  toxiproxy: http://127.0.0.1:8474
  proxies:
    - name: api->postgres
      listen: 127.0.0.1:26000
processes:
  kind: commands
  instances: [{ id: api-1, service: api }]
  commands:
    pause: docker pause api-1
`;
    const paths = issuesOf(() => parseTarget(text)).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['edges.proxies.0.upstream', 'processes.commands.resume']));
  });

  it('reads environment variables with defaults, and names one that is unset', () => {
    expect(interpolateEnv('${A}/x', { A: 'http://h' }).value).toBe('http://h/x');
    expect(interpolateEnv('${B:-http://d}', {}).value).toBe('http://d');
    expect(interpolateEnv('${C}', {}).missing).toEqual(['C']);
    const issues = issuesOf(() => parseTarget(minimal.replace('http://127.0.0.1:9000', '${FAULTLINE_TEST_SURELY_UNSET_VAR}')));
    expect(issues[0]).toMatchObject({ path: 'entry.url' });
    expect(issues[0]!.message).toMatch(/FAULTLINE_TEST_SURELY_UNSET_VAR/);
  });

  it('an unknown target name lists the shipped ones', async () => {
    const err = (await loadTarget('nope').catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe('NOT_FOUND');
    expect(err.issues[0]!.message).toMatch(/shop/);
    expect(await readFile(path.join(TARGETS_DIR, 'shop.yaml'), 'utf8')).toContain('name: shop');
  });
});
