import { expect, test } from '@playwright/test';
import { shot, signIn } from '../helpers.js';

test('sign-in: a wrong password is refused at the form, the right one opens the console', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('User').fill('operator');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.errbox')).toContainText('wrong user name or password');
  await shot(page, 'login');
  await signIn(page, 'operator');
  await expect(page.getByTestId('topology')).toContainText('payments-0');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'fl_session')!;
  expect(session.httpOnly).toBe(true);
  expect(session.sameSite).toBe('Lax');
});

test('settings shows each backend in use and that it is reachable', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto('/settings');
  const table = page.getByTestId('backends');
  for (const key of ['postgres', 'redis', 'faultProxy', 'supervisor', 'logStore', 'loadEngine'])
    await expect(table.locator(`tr[data-backend="${key}"]`)).toContainText('reachable');
  await expect(table.locator('tr[data-backend="logStore"]')).toContainText('Postgres log store');
  await expect(table.locator('tr[data-backend="loadEngine"]')).toContainText('built-in engine');
  await expect(page.getByText('all backends reachable')).toBeVisible();
  await shot(page, 'settings');
});

test('a viewer cannot start a run: the button is off and the API refuses', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.goto('/experiments/payments-latency');
  await expect(page.getByTestId('run-now')).toBeDisabled();
  await expect(page.getByText('viewer: read only')).toBeVisible();
  // Even a hand-made request with the viewer's valid CSRF token is refused by role.
  const csrf = (await page.context().cookies()).find((c) => c.name === 'fl_csrf')!.value;
  const r = await page.request.post('/api/runs', { data: { experimentId: 'payments-latency' }, headers: { 'x-csrf-token': csrf } });
  expect(r.status()).toBe(403);
  expect((await r.json()).error.code).toBe('FORBIDDEN');
  const runs = await page.request.get('/api/runs');
  expect(((await runs.json()).runs as { experimentName: string }[]).filter((x) => x.experimentName === 'payments-latency')).toEqual([]);
  await expect(page.locator('a', { hasText: 'New experiment' })).toHaveCount(0);
});
