import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { proxyToxics, shot, signIn, stack } from '../helpers.js';

test('Halt all during a fault: the fault is gone from the proxy and the console', async ({ page }) => {
  // A detached fault applied by hand (as `faultline faults apply` does), on the stack's proxy and ledger.
  execFileSync(process.execPath, ['--import', 'tsx', 'e2e/apply-fault.ts', JSON.stringify({ type: 'latency', target: 'orders->payments', params: { latencyMs: 800 } })], {
    env: { ...process.env, TOXIPROXY_URL: stack.proxyUrl, SUPERVISOR_URL: stack.supervisorUrl, DATABASE_URL: stack.databaseUrl },
    stdio: 'pipe',
  });
  expect((await proxyToxics()).length).toBeGreaterThan(0);

  await signIn(page, 'operator');
  const banner = page.getByTestId('active-faults');
  await expect(banner).toContainText('1 active fault');
  await expect(page.getByTestId('faults-table')).toContainText('orders->payments');
  await expect(page.locator('tr[data-edge="orders->payments"]')).toContainText('latency');
  await shot(page, 'overview-fault-active');
  await banner.getByRole('button', { name: 'Halt all' }).click();
  await expect(banner).toHaveCount(0);
  await expect(page.getByText(/halted: 1 removed/)).toBeVisible();
  expect(await proxyToxics()).toEqual([]);
  await page.reload();
  await expect(page.getByTestId('active-faults')).toHaveCount(0);
  await expect(page.getByText('No fault is active.')).toBeVisible();
});
