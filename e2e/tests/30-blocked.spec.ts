import { expect, test } from '@playwright/test';
import { admin, login, run } from './helpers';

test('blocking a signed-in user ends their session with a clear message', async ({ page, request }) => {
  const adminTokens = await (await request.post('/api/v1/auth/login', { data: admin })).json();
  const auth = { Authorization: `Bearer ${adminTokens.access_token}` };
  const me = await (await request.get('/api/v1/me', { headers: auth })).json();
  const roles = await (await request.get('/api/v1/roles?limit=100', { headers: auth })).json();
  const technician = roles.items.find((r: { code: string }) => r.code === 'dealer_technician');
  const user = { email: `tim.${run}@e2e.example`, password: 'Technician-2026' };
  const created = await request.post('/api/v1/users', {
    headers: auth,
    data: {
      ...user,
      name: `Tim Technician ${run}`,
      org_id: me.org_id,
      access_level: 2,
      role_ids: [technician.id],
    },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();

  await login(page, user.email, user.password);
  await expect(page).toHaveURL(/\/cabinet$/);

  const blocked = await request.patch(`/api/v1/users/${id}`, { headers: auth, data: { status: 'blocked' } });
  expect(blocked.status()).toBe(200);

  // The very next request the app makes is refused, and the app says why. That request may be
  // the click below or one the app makes on its own (the live stream reconnecting, the unread
  // counter): if the app has already signed out, the link is gone and the click has nothing to do.
  const link = page.getByTestId('main-nav').getByRole('link', { name: 'My network' });
  await link.click({ timeout: 5_000 }).catch(async (error) => {
    if (!/\/login/.test(page.url())) throw error;
  });
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByTestId('session-ended')).toContainText('blocked');
});
