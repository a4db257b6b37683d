import { defineConfig, devices } from '@playwright/test';

// Started by `cargo xtask e2e`, which builds the SPA and the server, starts the server on a fresh
// database and passes its address in BASE_URL. It uses Debian's chromium (CHROMIUM_PATH):
// Playwright never downloads a browser here.
const chromium = {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: 'tests',
  outputDir: 'test-results/artifacts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: process.env.BASE_URL || 'http://127.0.0.1:8080',
    headless: true,
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: chromium,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        // No branded channel: the executable above, nothing from Playwright's browser cache.
        channel: undefined,
        viewport: { width: 1280, height: 800 },
        launchOptions: chromium,
      },
    },
  ],
});
