import { expect, test, type Browser, type Page } from '@playwright/test';
import { login } from './helpers';

const DEMO_PASSWORD = 'DealerNet-demo-2026';
const callCentre = 'callcentre@demo.dealernet.example';
const firstDealer = 'dealer@demo.dealernet.example'; // SatLink Moscow
const secondDealer = 'dealer2@demo.dealernet.example'; // TeleVision Plus Moscow

async function signedIn(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await login(page, email, DEMO_PASSWORD);
  return page;
}

test('the contact centre registers a request; the best dealer rejects it, the next one accepts and completes it', async ({ browser }) => {
  test.setTimeout(120_000);

  // The contact centre registers an installation in central Moscow.
  const cc = await signedIn(browser, callCentre);
  await cc.goto('/admin/requests/new');
  const form = cc.getByTestId('request-form');
  await form.locator('input[name=customer]').fill('Irina Klientova');
  await form.locator('input[name=phone]').fill('+7 916 123-45-67');
  await form.locator('input[name=equipment]').fill('Dish 60 cm, Receiver HD');
  await form.locator('input[name=address]').fill('Tverskaya st. 1, Moscow');
  await expect(cc.getByTestId('map')).toBeVisible();
  await form.locator('input[name="location.lat"]').fill('55.7575');
  await form.locator('input[name="location.lon"]').fill('37.6130');
  await form.locator('input[name=region_code]').fill('RU-MOW');
  await form.getByTestId('request-save').click();

  // The best dealer is chosen at once, and the explanation says why.
  await expect(cc).toHaveURL(/\/admin\/requests\/\d+$/);
  const requestUrl = cc.url();
  await expect(cc.getByTestId('assigned-dealer')).toHaveText('SatLink Moscow');
  const explanation = cc.getByTestId('explanation');
  const candidates = explanation.getByTestId('candidate');
  await expect(candidates.first()).toContainText('SatLink Moscow');
  await expect(candidates.first()).toContainText('chosen');
  await expect(candidates.nth(1)).toContainText('TeleVision Plus Moscow');
  await expect(explanation.getByTestId('excluded-dealer').filter({ hasText: 'Orbita Service Moscow' }))
    .toContainText('does not offer this service');
  await expect(explanation.getByTestId('excluded-dealer').filter({ hasText: 'Signal Pro Moscow' }))
    .toContainText('suspended');
  await cc.locator('.toast').filter({ hasText: 'Offered to SatLink Moscow' }).getByRole('button').click();
  await cc.screenshot({ path: '../docs/screenshots/dealers.png', fullPage: true });

  // The second dealer's inbox is open and empty of this job.
  const second = await signedIn(browser, secondDealer);
  await second.goto('/jobs');
  await expect(second.getByTestId('jobs-page')).toBeVisible();
  await second.waitForTimeout(1500); // the live stream connects
  await expect(second.getByTestId('job-accept')).toHaveCount(0);

  // SatLink sees the offer in its job inbox and rejects it with a reason.
  const first = await signedIn(browser, firstDealer);
  await first.goto('/jobs');
  const offer = first.locator('tr').filter({ hasText: 'Tverskaya st. 1' });
  await expect(offer).toBeVisible();
  await offer.getByTestId('job-reject').click();
  const reject = first.getByTestId('reject-form');
  await reject.locator('select[name=reason]').selectOption('no_equipment');
  await reject.locator('input[name=note]').fill('No dishes in stock today');
  await reject.getByTestId('reject-confirm').click();
  await expect(first.locator('.toast').filter({ hasText: 'next dealer' })).toBeVisible();
  await expect(first.locator('tr').filter({ hasText: 'Tverskaya st. 1' })).toHaveCount(0);

  // The next best dealer gets it live, accepts and records the installation.
  const job = second.locator('tr').filter({ hasText: 'Tverskaya st. 1' });
  await expect(job).toBeVisible({ timeout: 20_000 });
  await job.getByTestId('job-accept').click();
  await expect(second.locator('.toast').filter({ hasText: 'Job accepted' })).toBeVisible();
  await job.getByTestId('job-complete').click();
  const done = second.getByTestId('complete-form');
  await done.locator('input[name=serials]').fill('SAT-0001 RCV-0002');
  await done.locator('input[name=photos]').fill('https://files.example/dish.jpg');
  await done.locator('input[name=notes]').fill('Signal 87%');
  await done.getByTestId('complete-confirm').click();
  await expect(second.locator('.toast').filter({ hasText: 'request is closed' })).toBeVisible();
  await expect(job).toContainText('Completed');

  // The contact centre sees the request closed, the rejection and what was installed.
  await cc.goto(requestUrl);
  await expect(cc.getByTestId('assigned-dealer')).toHaveText('TeleVision Plus Moscow');
  await expect(cc.getByTestId('rejections')).toContainText('SatLink Moscow');
  await expect(cc.getByTestId('rejections')).toContainText('No equipment');
  await expect(cc.getByTestId('completion')).toContainText('SAT-0001');
  await expect(cc.getByTestId('explanation').getByTestId('excluded-dealer').filter({ hasText: 'SatLink Moscow' }))
    .toContainText('already rejected');
});

test('the dealer directory filters by service and shows the profile with its territory and rating history', async ({ browser }) => {
  const op = await signedIn(browser, 'operator@demo.dealernet.example');
  await op.goto('/admin/dealers');
  const table = op.getByTestId('dealers');
  await expect(table).toContainText('SatLink Moscow');
  await op.locator('select[name=filter-service]').selectOption('repair');
  await expect(table).toContainText('Orbita Service Moscow');
  await expect(table).not.toContainText('Signal Pro Moscow');
  await table.getByRole('link', { name: 'Orbita Service Moscow' }).click();
  await expect(op.getByTestId('dealer-profile')).toContainText('Orbita Service Moscow LLC');
  await expect(op.locator('.leaflet-container')).toBeVisible();
  await op.getByTestId('change-rating').click();
  const form = op.getByTestId('rating-form');
  await form.locator('input[name=rating]').fill('4.1');
  await form.locator('input[name=reason]').fill('Two repairs redone in May');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(op.getByTestId('dealer-rating')).toHaveText('★ 4.1');
  await expect(op.getByTestId('rating-history')).toContainText('Two repairs redone in May');
});
