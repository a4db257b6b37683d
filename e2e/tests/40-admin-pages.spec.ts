import { expect, test } from '@playwright/test';
import { admin, login, run } from './helpers';

test('roles, API keys, audit, profile and the Russian translation work', async ({ page }) => {
  await login(page, admin.email, admin.password);
  const nav = page.getByTestId('main-nav');

  // Roles: the list and one role's permission matrix.
  await nav.getByRole('link', { name: 'Roles' }).click();
  await page.getByTestId('roles').getByRole('link', { name: 'Dealer administrator' }).click();
  const matrix = page.getByTestId('permission-matrix');
  await expect(matrix.getByLabel('users:create')).toBeChecked();
  await expect(matrix.getByLabel('api_keys:view')).not.toBeChecked();

  // API keys: the secret is shown once, then the key is listed and can be revoked.
  await nav.getByRole('link', { name: 'API keys' }).click();
  await page.getByRole('button', { name: 'New API key' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('input[name=name]').fill(`ERP ${run}`);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('api-key-secret')).not.toBeEmpty();
  await page.getByRole('button', { name: 'I have copied it' }).click();
  const row = page.getByTestId('api-keys').locator('tbody tr', { hasText: `ERP ${run}` });
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByTestId('confirm-ok').click();
  await expect(row).toContainText('Revoked');

  // The audit log records it.
  await nav.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByTestId('audit').locator('tbody tr').first()).toContainText('revoked');

  // Profile: the password form uses the shared validators; sessions are listed.
  await page.goto('/profile');
  const pw = page.getByTestId('password-form');
  await pw.locator('input[name=new_password]').fill('letters-only-password');
  await pw.getByRole('button', { name: 'Change password' }).click();
  await expect(pw.locator('[data-field=new_password] .field-error')).toHaveText('must contain a letter and a digit');
  await expect(page.getByText('this device')).toBeVisible();

  // Russian: every visible string goes through the translation tables.
  await page.getByRole('button', { name: 'RU' }).click();
  await expect(page.getByTestId('main-nav')).toContainText('Пользователи');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Мой профиль');
  await page.getByRole('button', { name: 'EN' }).click();
  await expect(page.getByTestId('main-nav')).toContainText('Users');
});

test('the layout works on a phone', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await login(page, admin.email, admin.password);
  await expect(page.getByTestId('main-nav')).not.toBeInViewport();
  await page.getByRole('button', { name: 'Menu' }).click();
  await expect(page.getByTestId('main-nav')).toBeInViewport();
  await page.getByTestId('main-nav').getByRole('link', { name: 'Users' }).click();
  await expect(page.getByTestId('users')).toBeVisible();
  await expect(page.getByTestId('main-nav')).not.toBeInViewport();
  await page.screenshot({ path: 'test-results/phone-users.png' });
});
