// POST /admin/login-links writes a person's permissions as /admin/people does, so it keeps the same
// guard: an admin cannot take admin away from themselves there either (another admin must).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { loginAs } from './helpers/web-client.js';

const json = { accept: 'application/json' };

describe('one-time login links made by an admin for their own name', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('do not take admin away from the admin who makes them', async () => {
    const { people } = serving.controller.store;
    people.put(LOCAL_ADMIN, ['admin'], 'test', Date.now());
    people.put('local:Alex', ['start', 'stop', 'admin'], 'test', Date.now());
    const alex = await loginAs(serving, 'local:Alex');
    const made = await alex.post('/admin/login-links', { name: 'Alex', ttl: '1h', permissions: 'start' }, { headers: json });
    expect(made.status, made.text).toBe(409);
    expect(made.text).toMatch(/yourself/);
    expect(people.get('local:Alex')!.permissions).toContain('admin');
    // With admin kept, a new link for oneself is fine (a second device, say).
    const again = await alex.post('/admin/login-links', { name: 'Alex', ttl: '1h', permissions: ['start', 'stop', 'admin'] }, { headers: json });
    expect(again.status, again.text).toBe(201);
  });
});
