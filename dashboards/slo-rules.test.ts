import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildSloRules, errorRatioExpr, type TSloRuleInput } from './slo-rules.js';

const slos: TSloRuleInput[] = [
  { id: 'checkout-availability', route: 'POST /checkout', sli: 'availability', objective: 99.9 },
  { id: 'checkout-latency', route: 'POST /checkout', sli: 'latency', thresholdMs: 500, objective: 99 },
];

function promtool(args: string[], cwd: string): string {
  return execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('SLO rules', () => {
  it('builds a latency SLI from the bucket at the threshold', () => {
    expect(errorRatioExpr(slos[1], '5m')).toContain('le="0.5"');
    expect(errorRatioExpr(slos[0], '1h')).toContain('status=~"5.."');
  });

  it('refuses a latency SLI without a threshold and a bad objective', () => {
    expect(() => buildSloRules([{ id: 'x', route: 'GET /products', sli: 'latency', objective: 99 }])).toThrow(/thresholdMs/);
    expect(() => buildSloRules([{ id: 'x', route: 'GET /products', sli: 'availability', objective: 100 }])).toThrow(/objective/);
  });

  it('passes promtool check rules, and the page alert fires on a fast burn only', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fl-rules-'));
    const rules = buildSloRules([slos[0]]);
    writeFileSync(path.join(dir, 'rules.yml'), stringify(rules));
    expect(promtool(['check', 'rules', 'rules.yml'], dir)).toMatch(/SUCCESS/);

    const alerts = rules.groups[1].rules;
    const page = alerts.find((r) => r.labels?.severity === 'page')!;
    const ticket = alerts.find((r) => r.labels?.severity === 'ticket')!;
    const sel = 'service="gateway",route="/checkout",method="POST"';
    const test = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          // 10 % errors against a 0.1 % budget: burn 100x, both windows of the 1h/5m pair.
          interval: '1m',
          input_series: [
            { series: `http_server_request_duration_seconds_count{${sel},status="500"}`, values: '0+10x120' },
            { series: `http_server_request_duration_seconds_count{${sel},status="201"}`, values: '0+90x120' },
          ],
          alert_rule_test: [
            {
              eval_time: '70m',
              alertname: 'FaultlineSLOErrorBudgetBurn',
              exp_alerts: [
                { exp_labels: page.labels, exp_annotations: page.annotations },
                { exp_labels: ticket.labels, exp_annotations: ticket.annotations },
              ],
            },
          ],
        },
        {
          // 0.05 % errors: under budget, nothing fires.
          interval: '1m',
          input_series: [
            { series: `http_server_request_duration_seconds_count{${sel},status="500"}`, values: '0+1x120' },
            { series: `http_server_request_duration_seconds_count{${sel},status="201"}`, values: '0+1999x120' },
          ],
          alert_rule_test: [{ eval_time: '70m', alertname: 'FaultlineSLOErrorBudgetBurn', exp_alerts: [] }],
        },
      ],
    };
    writeFileSync(path.join(dir, 'test.yml'), stringify(test));
    expect(promtool(['test', 'rules', 'test.yml'], dir)).toMatch(/SUCCESS/);
  });
});
