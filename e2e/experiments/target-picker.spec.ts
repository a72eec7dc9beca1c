import { expect, test } from '@playwright/test';
import { shot, signIn } from '../helpers.js';

test('experiment editor: the target picker writes target:, and validation names what the chosen target lacks', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto('/experiments/new');
  const picker = page.getByTestId('target-picker');
  const editor = page.getByTestId('yaml-editor');
  await expect(page.getByTestId('validation-state')).toHaveText('valid');
  await expect(picker).toHaveValue('shop');
  // the same list as the Targets page
  await expect(picker.locator('option[value="examples/transfers/target.yaml"]')).toHaveText('transfers (examples/transfers/target.yaml)');

  await picker.selectOption('examples/transfers/target.yaml');
  await expect(editor).toHaveValue(/^target: examples\/transfers\/target\.yaml$/m);
  // the shop template against the transfers target: its scenario and its edge are not the target's
  const issues = page.getByTestId('issues');
  await expect(issues).toContainText('faults.0.fault.target');
  await expect(issues).toContainText('unknown edge "orders->payments"');
  await expect(issues).toContainText('load.scenario');
  await expect(page.getByTestId('save')).toBeDisabled();
  await shot(page, 'experiment-target-picker');

  // fix the fields by hand: valid again
  const text = await editor.inputValue();
  await editor.fill(
    text
      .replace('scenario: checkout-mix', 'scenario: examples/transfers/load.yaml')
      .replace('route: POST /checkout', 'route: POST /transfers')
      .replace('target: orders->payments', 'target: transfers->postgres'),
  );
  await expect(page.getByTestId('validation-state')).toHaveText('valid');

  // back to the shop: only the target line changes, and the shop names the transfers edge
  await picker.selectOption('shop');
  await expect(editor).toHaveValue(/^target: shop$/m);
  await expect(issues).toContainText('unknown edge "transfers->postgres"');
});
