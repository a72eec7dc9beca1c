import { expect, test } from '@playwright/test';
import { shot, signIn, stack } from '../helpers.js';

test('targets: the list shows each target file; the transfers page checks every piece, one line each', async ({ page }) => {
  await signIn(page, 'operator');
  await page.getByRole('link', { name: 'Targets' }).click();
  await expect(page).toHaveURL(/\/targets$/);
  const table = page.getByTestId('targets');
  const transfers = table.locator('tr[data-target="transfers"]');
  await expect(transfers).toContainText('examples/transfers/target.yaml');
  await expect(transfers).toContainText('transfers->postgres');
  await expect(transfers).toContainText('money-conserved');
  await expect(transfers).toContainText('transfers-worker-killed');
  await expect(table.locator('tr[data-target="shop"]')).toContainText('payments-latency');
  await shot(page, 'targets');

  await transfers.getByRole('link', { name: 'transfers' }).first().click();
  await expect(page).toHaveURL(/\/targets\/transfers$/);
  await expect(page.getByTestId('target-edges')).toContainText('transfers->redis');
  // the listed proxies drawn as the topology: the service and its two dependencies
  const graph = page.getByTestId('topology-graph');
  await expect(graph.locator('[data-edge]')).toHaveCount(2);
  for (const node of ['transfers', 'postgres', 'redis']) await expect(graph.locator(`[data-node="${node}"]`)).toBeVisible();
  await expect(page.getByText('Not checked yet.')).toBeVisible();
  await page.getByTestId('check-target').click();
  const lines = page.getByTestId('check-lines');
  // the console runs the check with the stack's TOXIPROXY_URL: the target's edges.toxiproxy is the e2e fault proxy
  await expect(lines.locator('tr[data-piece="edges.toxiproxy"]')).toContainText(stack.proxyUrl);
  await expect(lines.locator('tr[data-piece="edges.toxiproxy"]')).toContainText('pass');
  for (const piece of ['entry', 'edges.proxies.transfers->postgres', 'processes.commands.kill', 'metrics.scrape.0', 'logs', 'databases.bank'])
    await expect(lines.locator(`tr[data-piece="${piece}"]`)).toContainText(/pass|fail|warn/);
  const count = await lines.locator('tbody tr').count();
  const failed = await lines.locator('tbody tr[data-ok="false"]').count();
  await expect(page.getByTestId('check-summary')).toHaveText(`${count - failed} ok, ${failed} failed`);
  await shot(page, 'target-transfers');
});

test("targets: the shop's page draws the edges its supervisor lists now", async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto('/targets/shop');
  const graph = page.getByTestId('topology-graph');
  for (const edge of ['gateway->orders', 'orders->payments', 'orders->postgres']) await expect(graph.locator(`[data-edge="${edge}"]`)).toHaveCount(1);
  for (const node of ['gateway', 'orders', 'payments', 'postgres']) await expect(graph.locator(`[data-node="${node}"]`)).toBeVisible();
  await shot(page, 'target-shop-topology');
});

test('targets: a viewer reads a target but cannot run its check', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.goto('/targets/transfers');
  await expect(page.getByTestId('target-invariants')).toContainText('money-conserved');
  await expect(page.getByTestId('check-target')).toBeDisabled();
  await expect(page.getByText('viewer: read only')).toBeVisible();
});
