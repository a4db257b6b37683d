import { expect, test } from '@playwright/test';

// The cheapest signs of life: the SPA's shell, the API's health, and that unknown API paths are
// problem+json 404s rather than the SPA's index.html.

test('the app shell loads', async ({ page }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle(/DealerNet/);
});

test('the API is healthy', async ({ request }) => {
  const health = await request.get('/api/v1/health');
  expect(health.status()).toBe(200);
});

test('an unknown API path is a problem+json 404, not the app', async ({ request }) => {
  const nope = await request.get('/api/v1/nope');
  expect(nope.status()).toBe(404);
  expect(nope.headers()['content-type']).toContain('application/problem+json');
  const body = await nope.json();
  expect(body.status).toBe(404);
});
