import { expect, test, type Page } from '@playwright/test';
import { admin, login, run } from './helpers';

/** A local `datetime-local` value `ms` milliseconds from now, with seconds. */
function localIn(ms: number): string {
  const d = new Date(Date.now() + ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Types into a line item's field and picks a suggestion (values entered before). */
async function pick(page: Page, row: number, field: string, typed: string, choice: string) {
  const item = page.getByTestId('line-item').nth(row);
  const input = item.locator(`input[name="items[${row}].${field}"]`);
  await input.fill(typed);
  const option = item.getByTestId('suggestions').getByRole('option', { name: choice, exact: true });
  await expect(option).toBeVisible();
  await option.click();
  await expect(input).toHaveValue(choice);
}

async function changeStatus(page: Page, status: string, label: string, comment: string) {
  const form = page.getByTestId('status-form');
  await form.locator('select[name=status]').selectOption(status);
  await form.locator('input[name=comment]').fill(comment);
  await form.getByTestId('status-save').click();
  await expect(page.getByTestId('request-status')).toContainText(label);
}

test('a client, a request with two autocompleted line items, a commented status path and a live reminder', async ({ browser }) => {
  test.setTimeout(180_000);
  const page = await (await browser.newContext()).newPage();
  const second = await (await browser.newContext()).newPage();
  await login(page, admin.email, admin.password);
  await login(second, admin.email, admin.password);

  // A new client.
  const name = `Arctic Cooling ${run}`;
  await page.goto('/crm/clients');
  await page.getByTestId('new-client').click();
  const form = page.getByTestId('client-form');
  await form.locator('input[name=name]').fill(name);
  await form.locator('input[name=legal_id]').fill(`E2E${run}`.toUpperCase().slice(0, 20));
  await form.locator('input[name=email]').fill(`office-${run}@arctic.example`);
  // The shared validator answers inline before anything is sent.
  await form.locator('input[name=website]').fill('not a site');
  await form.getByTestId('client-save').click();
  await expect(form.locator('[data-field=website] .field-error')).not.toBeEmpty();
  await form.locator('input[name=website]').fill('https://arctic.example');
  await form.getByTestId('client-save').click();
  await expect(page.getByTestId('client-name')).toHaveText(name);

  // A request for it with two line items, each level picked from what was entered before.
  await page.getByTestId('new-request').click();
  await expect(page.getByTestId('request-form')).toBeVisible();
  await pick(page, 0, 'equipment_type', 'Chil', 'Chiller');
  await pick(page, 0, 'name', 'Aqua', 'AquaForce');
  await pick(page, 0, 'sub_name', '30', '30XA');
  await pick(page, 0, 'capacity', '5', '500 kW');
  await page.getByTestId('add-item').click();
  await pick(page, 1, 'equipment_type', 'dry', 'Dry cooler');
  await pick(page, 1, 'name', 'Gue', 'Guentner');
  await page.locator('input[name="items[1].quantity"]').fill('2');
  await page.getByTestId('request-save').click();
  await expect(page.getByTestId('request-number')).toHaveText(/^R-\d{4}-\d{6}$/);
  const rows = page.getByTestId('request-items').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('AquaForce');
  await expect(rows.nth(1)).toContainText('Guentner');

  // Through its statuses, each with a comment; the timeline keeps them.
  const statusForm = page.getByTestId('status-form');
  await statusForm.locator('select[name=status]').selectOption('in_progress');
  await statusForm.getByTestId('status-save').click();
  await expect(statusForm.locator('[data-field=comment] .field-error')).not.toBeEmpty();
  await changeStatus(page, 'in_progress', 'In progress', 'Offer sent to the chief engineer');
  await changeStatus(page, 'stalled', 'Stalled', 'Budget frozen until January');
  await changeStatus(page, 'won', 'Won', 'Contract signed');
  const timeline = page.getByTestId('timeline').getByTestId('timeline-entry');
  await expect(timeline).toHaveCount(4);
  await expect(timeline.first()).toContainText('Contract signed');
  await page.getByTestId('delivery-next').click();
  await expect(page.locator('.stepper .step-done')).toHaveCount(1);
  await page.screenshot({ path: '../docs/screenshots/crm.png', fullPage: true });

  // A reminder on the request one minute ahead pops up live in the other browser.
  const requestUrl = page.url();
  await second.goto('/crm/requests');
  await second.waitForTimeout(1500);
  const title = `Call ${name} about delivery`;
  await page.getByTestId('remind').first().click();
  const rf = page.getByTestId('reminder-form');
  await expect(rf).toContainText('About:');
  await rf.locator('input[name=title]').fill(title);
  await rf.locator('input[name=due_at]').fill(localIn(60_000));
  await rf.getByTestId('reminder-save').click();
  await expect(page.locator('.toast').filter({ hasText: 'Reminder set.' })).toBeVisible();
  await expect(second.locator('.toast').filter({ hasText: title })).toBeVisible({ timeout: 100_000 });
  await second.getByTestId('notif-bell').click();
  await second.getByTestId('notif-panel').locator('.notif-item').filter({ hasText: title }).first().click();
  await expect(second).toHaveURL(new RegExp(`${new URL(requestUrl).pathname}$`));
});

test('the clients list searches any field and offers quick actions per row', async ({ page }) => {
  await login(page, admin.email, admin.password);
  await page.goto('/crm/clients');
  const table = page.getByTestId('clients');
  await page.locator('input[type=search]').first().fill('engineer');
  await expect(table.locator('tbody tr').first()).toBeVisible();
  await page.locator('input[type=search]').first().fill('Volga');
  await expect(table.locator('tbody tr')).toHaveCount(1);
  const row = table.locator('tbody tr').first();
  await expect(row).toContainText('Volga Cold Chain');
  await expect(row.getByTestId('new-request-for')).toBeVisible();
  await row.getByTestId('remind').click();
  await expect(page.getByTestId('reminder-form')).toContainText('Volga Cold Chain');
});
