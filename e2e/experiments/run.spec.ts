import { expect, test } from '@playwright/test';
import { E2E_EXPERIMENT, proxyToxics, shot, signIn } from '../helpers.js';

test('write an experiment (field errors first), run it from the UI and watch it live to a verdict with SLOs and violation evidence', async ({ page }) => {
  await signIn(page, 'operator');
  await shot(page, 'overview');
  await page.goto('/experiments');
  await expect(page.getByTestId('experiments')).toContainText('payments-latency');
  await shot(page, 'experiments');

  await page.goto('/experiments/new');
  const editor = page.getByTestId('yaml-editor');
  // A wrong value is reported at its field and line before anything is saved.
  await editor.fill(E2E_EXPERIMENT.replace('objective: 99', 'objective: 150'));
  await expect(page.getByTestId('issues')).toContainText('steady_state.slos.0.objective');
  await expect(page.getByTestId('issues')).toContainText('line 13');
  await expect(page.getByTestId('save')).toBeDisabled();
  await shot(page, 'experiment-editor-errors');
  await editor.fill(E2E_EXPERIMENT);
  await expect(page.getByTestId('validation-state')).toHaveText('valid');
  await page.getByTestId('save').click();
  await expect(page).toHaveURL(/\/experiments\/e2e-payments-slow$/);
  await expect(page.getByTestId('fault-timeline')).toContainText('payments-slow');
  await shot(page, 'experiment-detail');

  await page.getByTestId('run-now').click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  const url = page.url();
  // Live: the phase moves and charts fill without any reload.
  await expect(page.getByTestId('run-state')).toHaveText(/steady_state|running/, { timeout: 60_000 });
  await expect(page.getByTestId('chart-throughput')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('active-faults')).toBeVisible({ timeout: 30_000 });
  await shot(page, 'run-live');
  await expect(page.getByTestId('run-state')).toHaveText(/passed|failed/, { timeout: 150_000 });
  expect(page.url()).toBe(url);

  // With double-charge on, the run fails and the evidence names the double capture.
  await expect(page.getByTestId('run-state')).toHaveText('failed');
  const slos = page.getByTestId('slo-table');
  await expect(slos).toContainText('checkout-availability');
  await expect(slos).toContainText('browse-latency');
  await expect(slos).toContainText('Budget consumed');
  const exactlyOnce = page.locator('tr[data-invariant="payment-exactly-once"]');
  await expect(exactlyOnce).toContainText('violated');
  await expect(exactlyOnce).toContainText('double-capture');
  // the offending row names the order's captured payments (targets/shop.yaml)
  await expect(exactlyOnce.locator('pre.evidence').first()).toContainText('payment_ids');
  await expect(page.getByTestId('breaker-expectations')).toBeVisible();
  await expect(page.getByTestId('chart-breakers')).toBeVisible();

  // The run's logs are searchable by service, level and text.
  const logs = page.getByTestId('logs');
  await logs.locator('select[name=service]').selectOption('orders');
  await logs.locator('select[name=level]').selectOption('warn');
  await logs.locator('input[name=text]').fill('breaker');
  await logs.getByRole('button', { name: 'Search' }).click();
  await expect(logs.locator('.logs')).toContainText('orders-0');
  await expect(logs.locator('.logs')).toContainText('breaker');

  // Each report format downloads.
  for (const [label, needle] of [
    ['JSON', '"schemaVersion"'],
    ['JUnit', '<testsuite'],
    ['Markdown', 'e2e-payments-slow'],
    ['HTML', '<html'],
  ] as const) {
    const href = await page.getByTestId('downloads').getByRole('link', { name: label }).getAttribute('href');
    const r = await page.request.get(href!);
    expect(r.status(), label).toBe(200);
    expect(await r.text(), label).toContain(needle);
  }
  expect(await proxyToxics()).toEqual([]);
  await shot(page, 'run-finished');
  await page.goto('/runs');
  await expect(page.getByTestId('runs')).toContainText('e2e-payments-slow');
  await shot(page, 'runs');
});

test('load tests: run a scenario on its own and see live results', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto('/loadtests');
  await expect(page.getByTestId('scenarios')).toContainText('checkout-mix');
  await shot(page, 'loadtests');
  await page.getByTestId('scenarios').locator('tr', { hasText: 'smoke' }).getByRole('button', { name: 'Run' }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  await expect(page.getByRole('heading', { name: 'load-smoke' })).toBeVisible();
  // live figures arrive second by second, then the run is stopped from the page
  await expect(page.getByTestId('chart-throughput')).toBeVisible({ timeout: 60_000 });
  // a few seconds of figures for the screenshot (not an assertion)
  await page.waitForTimeout(4000);
  await shot(page, 'loadtest-live');
  await page.getByRole('button', { name: 'Abort run' }).click();
  await expect(page.getByTestId('run-state')).toHaveText(/aborted|errored|failed|passed/, { timeout: 60_000 });
});
