import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { proxyToxics, shot, signIn, stack } from '../helpers.js';

const applyByHand = () =>
  // A detached fault applied by hand (as `faultline faults apply` does), on the stack's proxy and ledger.
  execFileSync(
    process.execPath,
    ['--import', 'tsx', 'e2e/apply-fault.ts', JSON.stringify({ type: 'latency', target: 'orders->payments', params: { latencyMs: 800 } })],
    {
      env: { ...process.env, TOXIPROXY_URL: stack.proxyUrl, SUPERVISOR_URL: stack.supervisorUrl, DATABASE_URL: stack.databaseUrl },
      stdio: 'pipe',
    },
  );

// Whatever happens in the spec, the lever must not stay engaged for the specs that run after it.
test.afterEach(() => {
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./chaos/safety/lever.ts').then(async (l) => { const { getDb, closeDb } = await import('./db/client.ts'); await l.clearLever(getDb(process.env.DATABASE_URL), { by: 'e2e cleanup' }); await closeDb(); })",
    ],
    {
      env: { ...process.env, DATABASE_URL: stack.databaseUrl },
      stdio: 'pipe',
    },
  );
});

test('Halt all engages the safety lever: the fault is gone, the banner says who and why until Release, faults are refused meanwhile', async ({ page }) => {
  applyByHand();
  expect((await proxyToxics()).length).toBeGreaterThan(0);

  await signIn(page, 'operator');
  const banner = page.getByTestId('active-faults');
  await expect(banner).toContainText('1 active fault');
  await expect(page.getByTestId('faults-table')).toContainText('orders->payments');
  await expect(page.locator('tr[data-edge="orders->payments"]')).toContainText('latency');
  await shot(page, 'overview-fault-active');
  await banner.getByRole('button', { name: 'Halt all' }).click();
  await page.getByLabel('reason for halting').fill('payments on fire');
  await page.getByRole('button', { name: 'Engage' }).click();

  const engaged = page.getByTestId('lever-engaged');
  await expect(engaged).toContainText('Halted by operator at');
  await expect(engaged).toContainText('payments on fire');
  await expect(page.getByTestId('lever-msg')).toContainText('1 fault removed');
  expect(await proxyToxics()).toEqual([]);
  await shot(page, 'lever-engaged');

  // Engaged state lives on the server: a reload still shows it, and a hand-applied fault is refused (exit 3).
  await page.reload();
  await expect(page.getByTestId('lever-engaged')).toContainText('payments on fire');
  let refused = '';
  try {
    applyByHand();
  } catch (e) {
    refused = String((e as { stderr?: Buffer }).stderr ?? '');
  }
  expect(refused).toContain('the safety lever is engaged (by operator');
  expect(await proxyToxics()).toEqual([]);

  await page.getByTestId('lever-engaged').getByRole('button', { name: 'Release' }).click();
  await expect(page.getByTestId('lever-engaged')).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('lever-engaged')).toHaveCount(0);
  await expect(page.getByTestId('active-faults')).toHaveCount(0);
  await expect(page.getByText('No fault is active.')).toBeVisible();
});
