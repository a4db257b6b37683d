import { expect, test, type Page } from '@playwright/test';
import { admin, login, run } from './helpers';

/** A local `datetime-local` value `ms` milliseconds from now, with seconds. */
function localIn(ms: number): string {
  const d = new Date(Date.now() + ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

async function unread(page: Page): Promise<number> {
  const badge = page.getByTestId('notif-count');
  if ((await badge.count()) === 0) return 0;
  return Number(await badge.textContent());
}

test('a reminder set in one browser pops up live in a second browser of the same user', async ({ browser }) => {
  test.setTimeout(90_000);
  const first = await (await browser.newContext()).newPage();
  const second = await (await browser.newContext()).newPage();
  await login(first, admin.email, admin.password);
  await login(second, admin.email, admin.password);
  // Let the second browser's live stream connect and its counter settle.
  await second.waitForTimeout(1500);
  const before = await unread(second);

  const title = `Call the dealer back ${run}`;
  await first.goto('/reminders');
  await first.getByTestId('reminder-new').click();
  const form = first.getByTestId('reminder-form');
  await form.locator('input[name=title]').fill(title);
  await form.locator('input[name=note]').fill('About the delayed shipment');
  await form.locator('input[name=due_at]').fill(localIn(15_000));
  await form.getByTestId('reminder-save').click();
  await expect(first.getByTestId('reminder-row').filter({ hasText: title })).toBeVisible();

  // The second browser gets the pop-up live and its counter goes up, without a reload.
  await expect(second.locator('.toast').filter({ hasText: title })).toBeVisible({ timeout: 40_000 });
  await expect(second.getByTestId('notif-count')).toHaveText(String(before + 1));
  await second.getByTestId('notif-bell').click();
  const panel = second.getByTestId('notif-panel');
  await expect(panel.locator('.notif-item.unread').filter({ hasText: title })).toBeVisible();
  await second.screenshot({ path: '../docs/screenshots/notifications.png' });

  // Opening it marks it read and follows its link.
  await panel.locator('.notif-item').filter({ hasText: title }).first().click();
  await expect(second).toHaveURL(/\/reminders$/);
  await expect(second.getByTestId('reminder-row').filter({ hasText: title })).toContainText('Due');
  if (before === 0) {
    await expect(second.getByTestId('notif-count')).toHaveCount(0);
  } else {
    await expect(second.getByTestId('notif-count')).toHaveText(String(before));
  }

  // After signing in again, the day's reminders are in the banner until done.
  await second.reload();
  await expect(second.getByTestId('reminders-today')).toBeVisible();
  await second.getByTestId('reminder-row').filter({ hasText: title }).getByRole('button', { name: 'Done' }).click();
  await expect(second.getByTestId('reminder-row').filter({ hasText: title })).toContainText('Done');
});

test('a reminder can be set from a row of the users list', async ({ page }) => {
  await login(page, admin.email, admin.password);
  await page.goto('/admin/users');
  const row = page.getByTestId('users').locator('tbody tr').first();
  await row.getByTestId('remind').click();
  const form = page.getByTestId('reminder-form');
  await expect(form).toContainText('About:');
  const title = `Check the account ${run}`;
  await form.locator('input[name=title]').fill(title);
  await form.getByTestId('reminder-save').click();
  await expect(page.locator('.toast').filter({ hasText: 'Reminder set.' })).toBeVisible();
  await page.goto('/reminders');
  const line = page.getByTestId('reminder-row').filter({ hasText: title });
  await expect(line).toBeVisible();
  await expect(line.getByRole('link')).toHaveAttribute('href', /\/admin\/users\/\d+/);
});

test('notification preferences are kept per event and channel', async ({ page }) => {
  await login(page, admin.email, admin.password);
  await page.goto('/profile');
  const prefs = page.getByTestId('notif-prefs');
  const box = prefs.getByTestId('pref-comment_added-1');
  await expect(box).not.toBeChecked();
  await box.check();
  await prefs.getByTestId('notif-prefs-save').click();
  await expect(page.locator('.toast').filter({ hasText: 'Notification preferences saved.' })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('notif-prefs').getByTestId('pref-comment_added-1')).toBeChecked();
  await page.getByTestId('notif-prefs').getByTestId('pref-comment_added-1').uncheck();
  await page.getByTestId('notif-prefs').getByTestId('notif-prefs-save').click();
  await expect(page.locator('.toast').filter({ hasText: 'Notification preferences saved.' })).toBeVisible();
});
