/**
 * The CI recipes users copy must stay runnable: valid YAML, the gate command
 * pointing at a suite that exists, the JUnit and summary paths the gate writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSuiteFile } from '../../experiments/index.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');

function gateCommand(script: string[]): string {
  const cmd = script.find((s) => s.includes('faultline gate'));
  expect(cmd, 'a step runs faultline gate').toBeDefined();
  return cmd!;
}

async function checkGate(cmd: string): Promise<void> {
  const suite = /--suite\s+(\S+)/.exec(cmd)?.[1];
  expect(suite).toBeDefined();
  expect(existsSync(path.join(root, suite!))).toBe(true);
  const s = await loadSuiteFile(path.join(root, suite!));
  expect(s.experiments.length).toBeGreaterThan(0);
  expect(cmd).toMatch(/--report-dir\s+reports\b/);
}

describe('CI recipes', () => {
  it('GitHub Actions: runs the gate, publishes JUnit and comments the summary', async () => {
    const wf = parse(readFileSync(path.join(here, 'github-actions.yml'), 'utf8')) as {
      on: Record<string, unknown>;
      jobs: Record<string, { steps: { run?: string; uses?: string; with?: Record<string, string> }[]; services: Record<string, unknown> }>;
    };
    const job = wf.jobs.gate;
    expect(Object.keys(job.services).sort()).toEqual(['postgres', 'redis']);
    await checkGate(gateCommand(job.steps.map((s) => s.run ?? '')));
    const junit = job.steps.find((s) => s.uses?.startsWith('mikepenz/action-junit-report'));
    expect(junit?.with?.report_paths).toBe('reports/junit.xml');
    expect(job.steps.find((s) => s.uses?.startsWith('marocchino/sticky-pull-request-comment'))?.with?.path).toBe('reports/summary.md');
  });

  it('GitLab CI: runs the gate and declares the JUnit report', async () => {
    const ci = parse(readFileSync(path.join(here, 'gitlab-ci.yml'), 'utf8')) as Record<
      string,
      { script: string[]; artifacts: { reports: { junit: string } }; variables: Record<string, string> }
    >;
    const job = ci['resilience-gate'];
    await checkGate(gateCommand(job.script));
    expect(job.artifacts.reports.junit).toBe('reports/junit.xml');
    expect(job.variables.FAULT_ALLOWED_HOSTS.split(',')).toEqual(expect.arrayContaining(['postgres', 'redis']));
  });
});
