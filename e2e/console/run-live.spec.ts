import { expect, test, type Page } from '@playwright/test';
import { E2E_EXPERIMENT, shot, signIn } from '../helpers.js';

/** The shared e2e experiment under its own name (other specs save and run the original). */
const LIVE_EXPERIMENT = E2E_EXPERIMENT.replace('name: e2e-payments-slow', 'name: e2e-console-live').replace('duration: 25s', 'duration: 30s');

async function startRun(page: Page): Promise<string> {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'fl_csrf')!.value;
  const headers = { 'x-csrf-token': csrf };
  const saved = await page.request.post('/api/experiments', { data: { yaml: LIVE_EXPERIMENT }, headers });
  // 409: saved by an earlier attempt of this spec against the same stack
  expect([200, 201, 409]).toContain(saved.status());
  const r = await page.request.post('/api/runs', { data: { experimentId: 'e2e-console-live' }, headers });
  expect(r.status()).toBeLessThan(300);
  return ((await r.json()) as { id: string }).id;
}

/** Id of the newest log line on screen (ids grow as the collector stores lines). */
async function lastLogId(page: Page): Promise<number> {
  const v = await page.getByTestId('log-lines').getAttribute('data-last-id');
  return Number(v ?? -1);
}

test('the live run page tails the logs while the run goes on, then shows the verdict with the run-only x range', async ({ page }) => {
  await signIn(page, 'operator');
  const id = await startRun(page);
  await page.goto(`/runs/${id}`);

  // The load is on: the steps say so and charts draw.
  await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 90_000 });
  await expect(page.getByTestId('chart-throughput')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('run-clock')).toContainText(/load \d/);

  // The log panel gains lines during the run, without a reload.
  const logs = page.getByTestId('logs');
  await expect(logs).toContainText('tailing');
  await expect(page.getByTestId('log-lines')).toBeVisible({ timeout: 30_000 });
  const first = await lastLogId(page);
  const linesBefore = await page.getByTestId('log-line').count();
  await expect.poll(() => lastLogId(page), { timeout: 30_000 }).toBeGreaterThan(first);
  expect(await page.getByTestId('run-state').textContent()).toMatch(/running|recovering/);
  expect(await page.getByTestId('log-line').count()).toBeGreaterThanOrEqual(Math.min(linesBefore + 1, 2000));
  // Newest line in view: the panel follows the tail.
  const box = page.getByTestId('log-lines');
  const gap = await box.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  expect(gap).toBeLessThan(30);
  await shot(page, 'run-live-tailing');

  // Breaker lanes come from the live samples, before any report exists.
  await expect(page.getByTestId('chart-breakers')).toBeVisible({ timeout: 45_000 });

  await expect(page.getByTestId('run-state')).toHaveText(/passed|failed/, { timeout: 150_000 });
  await expect(page.getByTestId('slo-table')).toBeVisible({ timeout: 30_000 });
  await expect(logs).not.toContainText('tailing');
  await shot(page, 'run-finished-console');
});

test('an unknown page answers 404 inside the console layout', async ({ page }) => {
  await signIn(page, 'viewer');
  const r = await page.goto('/no-such-page');
  expect(r?.status()).toBe(404);
  await expect(page.getByTestId('not-found')).toBeVisible();
  await expect(page.locator('nav.nav')).toContainText('Runs');
  const run = await page.goto('/runs/no-such-run');
  expect(run?.status()).toBe(404);
  await expect(page.getByTestId('not-found')).toBeVisible();
});
