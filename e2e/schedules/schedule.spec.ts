import { expect, test } from '@playwright/test';
import { shot, signIn } from '../helpers.js';

test('create a schedule, see it fire (a run starts), later firings skipped while that run holds the target, then disable it', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto('/schedules');
  const form = page.getByTestId('schedule-form');
  await form.getByLabel('Name').fill('e2e every second');
  await form.locator('select[name=ref]').selectOption('payments-latency');
  // A bad cron is refused at the field.
  await page.getByTestId('cron-input').fill('61 * * * *');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('cron-error')).not.toBeEmpty();
  // Six fields: every second, so the test sees it fire at once.
  await page.getByTestId('cron-input').fill('* * * * * *');
  await form.locator('input[name=timezone]').fill('Europe/Berlin');
  await form.getByRole('button', { name: 'Create' }).click();
  const row = page.locator('tr[data-schedule="e2e every second"]');
  await expect(row).toContainText('enabled');
  await expect(row).toContainText('Europe/Berlin');
  const history = page.getByTestId('schedule-history');
  await expect(history.locator('tr', { hasText: 'started' }).first()).toBeVisible({ timeout: 30_000 });
  await expect(history.locator('tr', { hasText: 'skipped' }).first()).toContainText('is active on target shop', { timeout: 30_000 });
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('disabled');
  await shot(page, 'schedules');

  // The run it started is a real run, shown with trigger "schedule"; abort it to free the shop.
  await history.locator('tr', { hasText: 'started' }).first().locator('a').first().click();
  await expect(page.getByTestId('run-state')).toBeVisible();
  await expect(page.getByText('trigger schedule')).toBeVisible();
  await page.getByRole('button', { name: 'Abort run' }).click();
  await expect(page.getByTestId('run-state')).toHaveText(/aborted|errored|failed|passed/, { timeout: 60_000 });

  await page.goto('/');
  await expect(page.getByTestId('recent-runs')).toContainText('payments-latency');
  await shot(page, 'overview-after-runs');
});
