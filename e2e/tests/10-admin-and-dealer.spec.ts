import { expect, test } from '@playwright/test';
import { admin, login, logout, pickOrg, run } from './helpers';

const dealerName = `E2E Dealer ${run}`;
const dealerAdmin = {
  name: `Dana Dealer ${run}`,
  email: `dana.${run}@e2e.example`,
  password: 'Dealer-pass-2026',
};

test.describe.configure({ mode: 'serial' });

test('an administrator creates a dealer node and its administrator', async ({ page }) => {
  await login(page, admin.email, admin.password);
  await expect(page).toHaveURL(/\/admin$/);
  const nav = page.getByTestId('main-nav');
  await expect(nav.getByRole('link', { name: 'Users' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Organisation tree' })).toBeVisible();

  // A dealer node right below the operator root.
  await nav.getByRole('link', { name: 'Organisation tree' }).click();
  const tree = page.getByTestId('org-tree');
  const rootRow = tree.locator('li[role=treeitem]').first().locator('> .tree-row');
  await rootRow.hover();
  await rootRow.getByTestId('add-child').click();
  const orgForm = page.getByTestId('org-form');
  await orgForm.locator('input[name=name]').fill(dealerName);
  await orgForm.locator('select[name=kind]').selectOption('dealer');
  await orgForm.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${dealerName} has been created` })).toBeVisible();
  await expect(tree.locator(`li[data-org="${dealerName}"]`)).toBeVisible();

  // The user form validates inline with the shared validators before anything is sent.
  await nav.getByRole('link', { name: 'Users' }).click();
  await page.getByTestId('new-user').click();
  const posts: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/v1/users')) posts.push(r.url());
  });
  const form = page.getByTestId('user-form');
  await form.locator('input[name=email]').fill('not-an-email');
  await form.locator('input[name=password]').fill('short');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.locator('[data-field=name] .field-error')).toHaveText('must be 1 to 200 characters long');
  await expect(form.locator('[data-field=email] .field-error')).not.toBeEmpty();
  await expect(form.locator('[data-field=password] .field-error')).toHaveText('must be 10 to 128 characters long');
  await expect(form.locator('[data-field=email] input')).toHaveAttribute('aria-invalid', 'true');
  expect(posts).toHaveLength(0);

  // Now a valid dealer administrator.
  await form.locator('input[name=name]').fill(dealerAdmin.name);
  await form.locator('input[name=email]').fill(dealerAdmin.email);
  await form.locator('input[name=password]').fill(dealerAdmin.password);
  await expect(form.locator('[data-field=password] .field-error')).toBeEmpty();
  await pickOrg(page, 'org_id', dealerName);
  await form.locator('input[name=role][value=dealer_admin]').check();
  await expect(form.locator('select[name=access_level]')).toHaveValue('3');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(dealerAdmin.name);
  expect(posts).toHaveLength(1);

  // The list shows the new user with their role.
  await page.getByTestId('main-nav').getByRole('link', { name: 'Users' }).click();
  const row = page.getByTestId('users').locator('tbody tr', { hasText: dealerAdmin.email });
  await expect(row).toBeVisible();
  await expect(row).toContainText('Dealer administrator');
  await page.getByTestId('users').locator('tbody tr').nth(2).waitFor();
  // Success toasts go away by themselves after a few seconds; the screenshot is of the page.
  await expect(page.locator('.toast')).toHaveCount(0, { timeout: 15_000 });
  await page.screenshot({ path: '../docs/screenshots/users.png' });

  await logout(page);
});

test('the dealer administrator sees only the cabinet and its own subtree', async ({ page }) => {
  await login(page, dealerAdmin.email, dealerAdmin.password);
  await expect(page).toHaveURL(/\/cabinet$/);
  await expect(page.getByTestId('cabinet')).toBeVisible();

  const nav = page.getByTestId('main-nav');
  await expect(nav).toContainText('Dealer cabinet');
  await expect(nav.getByRole('link', { name: 'My network' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'My team' })).toBeVisible();
  await expect(nav).not.toContainText('Administration');
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Audit log' })).toHaveCount(0);

  // The network starts at the dealer's own node; nothing above it is shown.
  await nav.getByRole('link', { name: 'My network' }).click();
  const tree = page.getByTestId('org-tree');
  await expect(tree.locator('li[role=treeitem]').first()).toHaveAttribute('data-org', dealerName);
  await expect(tree).not.toContainText('Operator');

  // The team is the dealer's own people only.
  await nav.getByRole('link', { name: 'My team' }).click();
  const table = page.getByTestId('users');
  await expect(table.locator('tbody tr', { hasText: dealerAdmin.email })).toBeVisible();
  await expect(table).not.toContainText(admin.email);
  await expect(page.getByTestId('pager-range')).toHaveText('1–1 of 1');

  // Administration URLs answer with a clear no-access page.
  for (const url of ['/admin/users', '/admin/orgs', '/admin/roles/1']) {
    await page.goto(url);
    await expect(page.getByTestId('no-access')).toBeVisible();
    await expect(page.getByTestId('no-access')).toContainText('No access');
  }

  // And the API itself refuses: another node's records answer 404, never their data.
  const api = page.request;
  const tokens = await (await api.post('/api/v1/auth/login', { data: { email: dealerAdmin.email, password: dealerAdmin.password } })).json();
  const auth = { Authorization: `Bearer ${tokens.access_token}` };
  const adminLogin = await (await api.post('/api/v1/auth/login', { data: admin })).json();
  const me = await (await api.get('/api/v1/me', { headers: { Authorization: `Bearer ${adminLogin.access_token}` } })).json();
  const res = await api.get(`/api/v1/users/${me.id}`, { headers: auth });
  expect(res.status()).toBe(404);
  expect(await res.text()).not.toContain(admin.email);
  expect((await api.get('/api/v1/api-keys', { headers: auth })).status()).toBe(403);
});
