import { expect, test, type Browser, type Page } from '@playwright/test';
import { login } from './helpers';

const DEMO_PASSWORD = 'DealerNet-demo-2026';
const dealerAdmin = 'dealer@demo.dealernet.example'; // SatLink Moscow
const backOffice = 'operator@demo.dealernet.example';

/** Three receivers still at the central warehouse (the demo uses 00001–00004 and 00060). */
const first = 10 + (Date.now() % 15) * 3;
const serials = [0, 1, 2].map((i) => `GS532-${String(first + i).padStart(5, '0')}`);

async function signedIn(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await login(page, email, DEMO_PASSWORD);
  return page;
}

function toast(page: Page, text: string | RegExp) {
  return page.locator('.toast').filter({ hasText: text });
}

test('a dealer orders three receivers; the back office ships them; the dealer receives, installs one and brings it for warranty repair', async ({ browser }) => {
  test.setTimeout(120_000);

  // The dealer orders three receivers for its own stock.
  const dealer = await signedIn(browser, dealerAdmin);
  await dealer.goto('/cabinet/warehouse/orders');
  await expect(dealer.getByTestId('orders-page')).toBeVisible();
  await dealer.getByTestId('order-new').click();
  const form = dealer.getByTestId('order-form');
  // Inline validation: nothing is sent without a warehouse.
  await form.getByTestId('order-save').click();
  await expect(form.locator('[data-field="warehouse_id"] .field-error')).not.toBeEmpty();
  await form.locator('select[name=warehouse_id]').selectOption({ label: 'SatLink Moscow stock — SatLink Moscow' });
  await form.locator('select[name="lines[0].model_id"]').selectOption({ label: 'General Satellite GS B532M' });
  await form.locator('input[name="lines[0].quantity"]').fill('3');
  await form.locator('input[name=note]').fill('For the Saturday fair');
  await form.getByTestId('order-save').click();
  await expect(dealer).toHaveURL(/\/cabinet\/warehouse\/orders\/\d+$/);
  const orderId = dealer.url().split('/').pop()!;
  await expect(dealer.getByTestId('order-page')).toContainText('Requested');
  await expect(dealer.getByTestId('order-lines')).toContainText('General Satellite GS B532M');
  // A dealer cannot approve its own order.
  await expect(dealer.getByTestId('order-approve')).toHaveCount(0);

  // The back office approves it, picks the serials by typing and scanning, and ships.
  const office = await signedIn(browser, backOffice);
  await office.goto(`/admin/warehouse/orders/${orderId}`);
  await office.getByTestId('order-approve').click();
  await expect(toast(office, 'approved')).toBeVisible();
  const ship = office.getByTestId('ship-form');
  await expect(ship).toBeVisible();
  const from = ship.locator('select[name=from_warehouse_id]');
  const central = await from.locator('option', { hasText: 'Central warehouse' }).first().getAttribute('value');
  await from.selectOption(central!);
  const scan = ship.locator('input[name=scan]');
  // A scanner types the serial and presses Enter; lower case is normalised.
  await scan.fill(serials[0].toLowerCase());
  await scan.press('Enter');
  // Typed by hand, two at once.
  await scan.fill(`${serials[1]}, ${serials[2]}`);
  await scan.press('Enter');
  // A repeat scan is not picked twice.
  await scan.fill(serials[0]);
  await scan.press('Enter');
  await expect(ship.getByTestId('picked').locator('.chip')).toHaveCount(3);
  await ship.getByTestId('ship').click();
  await expect(toast(office, 'in transit')).toBeVisible();
  const shipment = office.getByTestId('shipment');
  await expect(shipment).toContainText('In transit');
  for (const s of serials) await expect(shipment).toContainText(s);
  await expect(office.getByTestId('order-page')).toContainText('Shipped');

  // The dealer confirms receipt of all three.
  await dealer.reload();
  const arrived = dealer.getByTestId('shipment');
  await expect(arrived).toContainText('In transit');
  await arrived.getByTestId('confirm-receipt').click();
  await expect(toast(dealer, 'Receipt confirmed')).toBeVisible();
  await expect(dealer.getByTestId('shipment')).toContainText('Received');
  await expect(dealer.getByTestId('order-lines').locator('tbody tr').first()).toContainText('3');

  // One unit is installed at a customer: the warranty starts.
  await dealer.getByTestId('shipment').getByRole('link', { name: serials[0] }).click();
  await expect(dealer).toHaveURL(new RegExp(`/cabinet/warehouse/serial/${serials[0]}$`));
  await expect(dealer.getByTestId('unit-location')).toContainText('SatLink Moscow stock');
  await dealer.getByTestId('install').click();
  const install = dealer.getByTestId('install-form');
  await install.getByTestId('install-save').click();
  await expect(install.locator('[data-field="customer"] .field-error')).not.toBeEmpty();
  await install.locator('input[name=customer]').fill('Anna Smirnova');
  await install.locator('input[name=address]').fill('Moscow, Arbat 12, flat 3');
  await install.getByTestId('install-save').click();
  await expect(toast(dealer, 'warranty has started')).toBeVisible();
  await expect(dealer.getByTestId('warranty-reason')).toContainText('under warranty until');
  await expect(dealer.getByTestId('unit-card')).toContainText('Anna Smirnova');
  await expect(dealer.getByTestId('serial-timeline')).toContainText('Installed at a customer');

  // Months later the customer brings it to the repair desk: a warranty case, and why.
  await dealer.goto('/cabinet/warehouse/repairs');
  const desk = dealer.getByTestId('repair-scan');
  await desk.locator('input[name=serial]').fill(serials[0]);
  await desk.getByTestId('repair-look').click();
  const verdict = dealer.getByTestId('repair-verdict');
  await expect(verdict).toContainText('Warranty case');
  await expect(dealer.getByTestId('repair-reason')).toContainText('under warranty until');
  await verdict.locator('input[name=complaint]').fill('No signal after a thunderstorm');
  await verdict.getByTestId('repair-take-in').click();
  await expect(toast(dealer, 'Taken in for repair')).toBeVisible();
  await expect(dealer.getByTestId('repair-open')).toContainText('In repair');
  await dealer.screenshot({ path: '../docs/screenshots/warehouse-repair.png', fullPage: true });
  await dealer.getByTestId('repair-close').click();
  await expect(dealer.getByTestId('repair-done')).toContainText('Repaired');

  // The serial's timeline tells the whole story, and the back office sees it too.
  await office.goto(`/admin/warehouse/serial/${serials[0]}`);
  const timeline = office.getByTestId('serial-timeline');
  for (const step of ['Received', 'Shipped', 'Received by the dealer', 'Installed at a customer', 'Taken in for repair']) {
    await expect(timeline).toContainText(step);
  }
  await expect(office.getByTestId('warranty-card')).toContainText('under warranty until');
  await office.screenshot({ path: '../docs/screenshots/warehouse-timeline.png', fullPage: true });
});
