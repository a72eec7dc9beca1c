/** Shared by the specs: sign-in, screenshots, the stack's URLs. */
import { expect, type Page } from '@playwright/test';

export const stack = {
  get proxyUrl() {
    return process.env.E2E_PROXY_URL!;
  },
  get supervisorUrl() {
    return process.env.E2E_SUPERVISOR_URL!;
  },
  get databaseUrl() {
    return process.env.E2E_DATABASE_URL!;
  },
};

export async function signIn(page: Page, user: 'operator' | 'viewer'): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('who')).toContainText(user);
}

/** Full-page screenshot into .faultline/screenshots/<name>.png (looked at by a human). */
export async function shot(page: Page, name: string): Promise<void> {
  // Sticky bars would be painted mid-page in a full-page capture.
  await page.addStyleTag({ content: '.side{position:static!important;height:auto!important}.topbar{position:static!important}' });
  await page.screenshot({ path: `.faultline/screenshots/${name}.png`, fullPage: true });
}

/** Toxics currently on any proxy of the fault proxy. */
export async function proxyToxics(): Promise<{ proxy: string; toxic: string }[]> {
  const r = (await (await fetch(`${stack.proxyUrl}/proxies`)).json()) as Record<string, { toxics: { name: string }[] }>;
  return Object.entries(r).flatMap(([proxy, p]) => p.toxics.map((t) => ({ proxy, toxic: t.name })));
}

export const E2E_EXPERIMENT = `name: e2e-payments-slow
description: e2e - payments answer 3 s late for 12 s under checkout load; the breaker opens, and the double-charge bug shows as double captures.
target: shop
load:
  scenario: checkout-mix
  rate: 20
  duration: 25s
steady_state:
  slos:
    - name: checkout-availability
      route: POST /checkout
      sli: availability
      objective: 99
    - name: browse-latency
      route: GET /products
      sli: latency
      threshold_ms: 500
      objective: 95
faults:
  - name: payments-slow
    at: 5s
    duration: 12s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 3000
quiescence: 5s
tags: [e2e]
`;
