/**
 * Playwright e2e of the console, in Debian's chromium (never a downloaded
 * browser), against the real stack e2e/global-setup.ts starts: built
 * console (`next build` + `next start` on a free port), fault proxy, shop
 * under its supervisor with the `double-charge` bug switch on, runner and
 * schedule workers. One worker: the specs share that one shop.
 */
import { defineConfig } from '@playwright/test';

// The schedule spec watches an every-second cron fire, then skip; schedules refuse
// sub-minute crons unless this is set (it reaches the stack: global-setup passes the env on).
process.env.FAULTLINE_ALLOW_SUBMINUTE_CRON ??= '1';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // A spec that watches a run to its verdict needs about a minute on 2 cores.
  timeout: 180_000,
  expect: { timeout: 15_000 },
  outputDir: '.faultline/test/e2e-results',
  reporter: [['list']],
  use: {
    baseURL: process.env.E2E_BASE_URL,
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
});
