import { expect, type Page } from '@playwright/test';

export const admin = {
  email: process.env.E2E_ADMIN_EMAIL ?? 'admin@e2e.example',
  password: process.env.E2E_ADMIN_PASSWORD ?? 'E2e-admin-pass-2026',
};

/** A suffix that keeps names unique when the suite runs twice against one database. */
export const run = Date.now().toString(36);

export async function login(page: Page, email: string, password: string) {
  await page.goto('/login');
  const form = page.getByTestId('login-form');
  await form.locator('input[name=email]').fill(email);
  await form.locator('input[name=password]').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('user-chip')).toBeVisible();
}

export async function logout(page: Page) {
  await page.getByTestId('user-chip').click();
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByTestId('session-ended')).toContainText('signed out');
}

/** Picks a node in an org picker by typing part of its name. */
export async function pickOrg(page: Page, field: string, name: string) {
  const picker = page.locator(`.org-picker[data-field="${field}"]`);
  const input = picker.locator('input');
  await input.fill('');
  await input.fill(name);
  await picker.getByRole('option', { name: new RegExp(name) }).first().click();
  await expect(input).toHaveValue(name);
}
