/**
 * Clickjacking and CSP (issue 13): every console answer carries the
 * security headers; the pages satisfy their own CSP (they render and
 * hydrate with no violation); a page on another local port that frames the
 * signed-in console gets nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { signIn } from '../helpers.js';

/** Record CSP violations in the page (the listener is installed before any page script runs). */
async function watchCsp(page: Page): Promise<{ violations: () => Promise<string[]>; consoleErrors: string[] }> {
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { consoleErrors, violations: () => page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []) };
}

test('every console answer carries the security headers', async ({ request }) => {
  for (const path of ['/login', '/', '/experiments', '/no-such-page', '/api/auth/me', '/api/experiments']) {
    const r = await request.get(path, { maxRedirects: 0 });
    const h = r.headers();
    expect.soft(h['x-frame-options'], path).toBe('DENY');
    expect.soft(h['x-content-type-options'], path).toBe('nosniff');
    expect.soft(h['referrer-policy'], path).toBe('same-origin');
    expect.soft(h['content-security-policy'] ?? '', path).toContain("frame-ancestors 'none'");
  }
  // Pages carry a fresh nonce each time; the same page twice has two different ones.
  const a = (await request.get('/login')).headers()['content-security-policy'];
  const b = (await request.get('/login')).headers()['content-security-policy'];
  expect(a).toMatch(/'nonce-[A-Za-z0-9+/=]{16,}'/);
  expect(a).not.toBe(b);
  // The rendered HTML stamps that nonce on Next's scripts.
  const page = await request.get('/login');
  const nonce = /'nonce-([^']+)'/.exec(page.headers()['content-security-policy'])![1];
  expect(await page.text()).toContain(`nonce="${nonce}"`);
});

test('pages render and hydrate under the CSP with no violation', async ({ page }) => {
  // Every page renders per request (the nonce); on a loaded 2-core machine that is slow, not wrong.
  test.slow();
  const csp = await watchCsp(page);
  // Sign-in only works hydrated: the form posts through fetch, a dead form would reload /login.
  await signIn(page, 'operator');
  for (const path of ['/experiments', '/experiments/payments-latency', '/runs', '/schedules', '/loadtests', '/settings']) {
    await page.goto(path);
    await expect(page.getByTestId('who')).toContainText('operator', { timeout: 60_000 });
    expect(await csp.violations(), path).toEqual([]);
  }
  // Client-side navigation (a hydrated link) works too.
  await page.getByRole('link', { name: 'Experiments' }).first().click();
  await expect(page).toHaveURL(/\/experiments$/);
  expect(await csp.violations()).toEqual([]);
  expect(csp.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
});

test('a page on another local port that frames the signed-in console gets nothing', async ({ page, baseURL }) => {
  await signIn(page, 'operator');
  const framed = `${baseURL}/experiments/payments-latency`;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>evil</title><h1>win a prize</h1><iframe id="f" src="${framed}" width="1200" height="700"></iframe>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const refusals: string[] = [];
    page.on('console', (m) => {
      if (/frame-ancestors|X-Frame-Options|Refused to (display|frame)/i.test(m.text())) refusals.push(m.text());
    });
    const evil = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await page.goto(evil);
    await expect(page.getByRole('heading', { name: 'win a prize' })).toBeVisible();
    // Chromium reports the refusal, and the frame holds no console document.
    await expect.poll(() => refusals.length).toBeGreaterThan(0);
    expect(refusals.join('\n')).toMatch(/frame-ancestors 'none'|X-Frame-Options/);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(frame).toBeDefined();
    expect(await frame!.locator('[data-testid="who"], [data-testid="run-now"], button').count()).toBe(0);
    // The same page opened directly is the signed-in console, so the emptiness is the block, not a bad URL.
    await page.goto(framed);
    await expect(page.getByTestId('who')).toContainText('operator');
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
