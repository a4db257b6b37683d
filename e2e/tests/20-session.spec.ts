import { expect, test } from '@playwright/test';
import { admin, login } from './helpers';

test('a deep link asks to sign in, then returns to the page that was asked for', async ({ page }) => {
  await page.goto('/admin/audit');
  await expect(page).toHaveURL(/\/login\?redirect=%2Fadmin%2Faudit/);
  const form = page.getByTestId('login-form');
  await form.locator('input[name=email]').fill(admin.email);
  await form.locator('input[name=password]').fill(admin.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit log');
});

test('the login form validates before sending and explains a wrong password', async ({ page }) => {
  await page.goto('/login');
  const form = page.getByTestId('login-form');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.locator('[data-field=email] .field-error')).not.toBeEmpty();
  await form.locator('input[name=email]').fill(admin.email);
  await form.locator('input[name=password]').fill('wrong-password-123');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.getByRole('alert').filter({ hasText: 'Wrong e-mail or password.' })).toBeVisible();
});

test('a reload keeps the session; unknown paths show a not-found page inside the app', async ({ page }) => {
  await login(page, admin.email, admin.password);
  await page.goto('/admin/users');
  await expect(page.getByTestId('users')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('users')).toBeVisible();
  await page.goto('/admin/nothing-here');
  await expect(page.getByTestId('not-found')).toBeVisible();
});

test('API paths never fall back to the SPA', async ({ request }) => {
  const res = await request.get('/api/v1/does-not-exist');
  expect(res.status()).toBe(404);
  expect(res.headers()['content-type']).toContain('application/problem+json');
});

test('the login page is interactive quickly (measured, not asserted)', async ({ page }, info) => {
  await page.goto('/login');
  await page.getByTestId('login-form').locator('input[name=email]').waitFor();
  const ms = await page.evaluate(() => Math.round(performance.now()));
  const wasm = await page.evaluate(() =>
    performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).map((e) => Math.round(e.duration)),
  );
  console.log(`login page interactive after ${ms} ms (wasm fetch+compile ${wasm.join(',')} ms)`);
  info.annotations.push({ type: 'login-tti-ms', description: String(ms) });
});
