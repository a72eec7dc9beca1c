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

/** A target of the e2e stack's own: its entry is the console, its edges on the e2e fault proxy; the listen address is `bad` until fixed. */
function ledgerTarget(listen: string): string {
  return `# saved from the e2e spec
name: e2e-ledger
description: a ledger service, saved in the console
entry:
  url: ${process.env.E2E_BASE_URL}
  health: /login
edges:
  toxiproxy: ${stack.proxyUrl}
  proxies:
    - name: ledger->postgres
      kind: postgres
      listen: ${listen}
      upstream: 127.0.0.1:5432
    - name: ledger->redis
      kind: redis
      listen: 127.0.0.1:26999
      upstream: 127.0.0.1:6379
databases:
  books:
    url_env: E2E_LEDGER_DATABASE_URL
    default: postgres://postgres@127.0.0.1:5432/e2e_ledger_missing
invariants:
  - name: books-balance
    database: books
    description: debits equal credits
    sql: SELECT 1 AS off WHERE false
`;
}

test('targets: a target created in the console — a bad field shown at its line, fixed, saved, listed as saved, checked and drawn, then deleted', async ({
  page,
}) => {
  await signIn(page, 'operator');
  await page.goto('/targets');
  await page.getByTestId('new-target').click();
  await expect(page).toHaveURL(/\/targets\/new$/);
  const editor = page.getByTestId('yaml-editor');
  // the template is a complete target: valid as it opens
  await expect(page.getByTestId('validation-state')).toHaveText('valid');
  await expect(editor).toHaveValue(/^name: my-service$/m);

  await editor.fill(ledgerTarget('nowhere'));
  await expect(page.getByTestId('validation-state')).toHaveText('1 problem');
  const issues = page.getByTestId('issues');
  await expect(issues).toContainText('line 12');
  await expect(issues).toContainText('edges.proxies.0.listen');
  await expect(issues).toContainText('expected host:port');
  await expect(page.locator('.gutter .bad-line')).toHaveText('12');
  await expect(page.getByTestId('save')).toBeDisabled();
  await shot(page, 'target-new-field-error');

  await editor.fill(ledgerTarget('127.0.0.1:26998'));
  await expect(page.getByTestId('validation-state')).toHaveText('valid');
  await expect(issues).toHaveCount(0);
  await page.getByTestId('save').click();
  await expect(page).toHaveURL(/\/targets\/e2e-ledger$/);

  // its page: saved, its topology drawn from the listed proxies, and the check one line per piece
  await expect(page.getByTestId('saved-by')).toContainText('saved in the console by operator');
  const graph = page.getByTestId('topology-graph');
  await expect(graph.locator('[data-edge]')).toHaveCount(2);
  for (const node of ['ledger', 'postgres', 'redis']) await expect(graph.locator(`[data-node="${node}"]`)).toBeVisible();
  await expect(page.getByTestId('target-invariants')).toContainText('books-balance');
  await page.getByTestId('check-target').click();
  const lines = page.getByTestId('check-lines');
  await expect(lines.locator('tr[data-piece="entry"]')).toContainText('pass');
  await expect(lines.locator('tr[data-piece="edges.toxiproxy"]')).toContainText('pass');
  await expect(lines.locator('tr[data-piece="edges.proxies.ledger->postgres"]')).toContainText('pass');
  await expect(lines.locator('tr[data-piece="databases.books"]')).toContainText('fail');
  await shot(page, 'target-saved');

  // the list shows it beside the files, marked saved
  await page.getByRole('link', { name: 'Targets' }).click();
  const row = page.getByTestId('targets').locator('tr[data-target="e2e-ledger"]');
  await expect(row).toContainText('saved');
  await expect(row).toContainText('saved in the console by operator');
  await expect(row).toContainText('ledger->postgres');
  await expect(page.getByTestId('targets').locator('tr[data-target="transfers"]')).toContainText('examples/transfers/target.yaml');
  await shot(page, 'targets-with-saved');

  // the experiment editor's target picker offers it by name
  await page.goto('/experiments/new');
  await expect(page.getByTestId('target-picker').locator('option[value="e2e-ledger"]')).toHaveText('e2e-ledger (saved in the console)');

  // edit keeps the name; delete removes it from the list
  await page.goto('/targets/e2e-ledger/edit');
  await editor.fill(ledgerTarget('127.0.0.1:26998').replace('name: e2e-ledger', 'name: e2e-other'));
  await expect(page.getByTestId('validation-state')).toHaveText('valid');
  await page.getByTestId('save').click();
  await expect(issues).toContainText('must stay "e2e-ledger"');
  await page.goto('/targets/e2e-ledger');
  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('delete-target').click();
  await expect(page).toHaveURL(/\/targets$/);
  await expect(page.getByTestId('targets').locator('tr[data-target="e2e-ledger"]')).toHaveCount(0);
});
