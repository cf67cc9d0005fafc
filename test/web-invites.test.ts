// Invites need a way in: without a login provider an invite link opens a page with nothing to press, so
// the People page says so when making one and offers a one-time login link for that person instead; the
// invite page says what to ask for, and with a provider shows its button.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { loginAs, WebClient } from './helpers/web-client.js';

const json = { accept: 'application/json' };
const pathOf = (serving: Serving, link: string) => link.slice(serving.url.length).replace(/&amp;/g, '&');

describe('invites on an OoD without a login provider', () => {
  let home: OodHome;
  let serving: Serving;
  let admin: WebClient;
  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    admin = await loginAs(serving, LOCAL_ADMIN);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('says before and after making an invite link that nobody can use it without a provider', async () => {
    const before = await admin.get('/admin');
    expect(before.text).toContain('No login provider is set up');
    const made = await admin.post('/admin/invites', { ttl: '1h', permissions: 'start' }, { headers: json });
    expect(made.status).toBe(201);
    const answer = JSON.parse(made.text) as { link: string; warning?: string };
    expect(answer.link).toMatch(/\/invite\?token=/);
    expect(answer.warning).toMatch(/no login provider.*one-time login link/i);

    await admin.post('/admin/invites', { ttl: '1h', permissions: 'start' });
    const page = await admin.get('/admin');
    expect(page.text).toContain('invite-link');
    expect(page.text).toMatch(/class="warning"[^>]*>[^<]*No login provider is set up/);
  });

  it('gives the invite page the words of what to ask the admin for', async () => {
    const made = JSON.parse((await admin.post('/admin/invites', { ttl: '1h', permissions: 'start' }, { headers: json })).text) as { link: string };
    const page = await new WebClient(serving.url).get(pathOf(serving, made.link));
    expect(page.status).toBe(200);
    expect(page.text).toContain('no login provider');
    expect(page.text).toContain('one-time login link');
    expect(page.text).not.toContain('class="providers"');
  });

  it('makes a one-time login link for a person, which logs them in once with the permissions given', async () => {
    const made = await admin.post('/admin/login-links', { name: 'Alex', ttl: '1d', permissions: 'start' }, { headers: json });
    expect(made.status).toBe(201);
    const { link, identity } = JSON.parse(made.text) as { link: string; identity: string };
    expect(identity).toBe('local:Alex');
    expect(serving.controller.store.people.get('local:Alex')!.permissions).toEqual(['start']);

    const alex = new WebClient(serving.url);
    const press = await alex.get(pathOf(serving, link));
    expect(press.status).toBe(200);
    expect(press.text).toContain('Log in as Alex');
    const token = new URL(link).searchParams.get('token')!;
    expect((await alex.post('/login/once', { token })).location).toBe('/');
    const overview = await alex.get('/');
    expect(overview.status).toBe(200);
    expect(overview.text).toContain('Alex');
    expect((await new WebClient(serving.url).get(pathOf(serving, link))).status).toBe(410);

    // The page form does the same, and shows the link once.
    expect((await admin.post('/admin/login-links', { name: 'Sam', ttl: '1h', permissions: ['start', 'stop'] })).status).toBe(303);
    const page = await admin.get('/admin');
    expect(page.text).toMatch(/<code id="login-link">[^<]*\/login\/once\?token=/);
    expect(serving.controller.store.people.get('local:Sam')!.permissions).toEqual(['start', 'stop']);
    expect((await admin.post('/admin/login-links', { name: 'no spaces here!', ttl: '1h' })).status).toBe(400);
  });
});

describe('invites on an OoD with a login provider', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome({ config: { web: { providers: { github: { clientId: 'Iv1.github' } } } } });
    serving = await serveInProcess(home.configPath, { OOD_OAUTH_GITHUB_SECRET: 'a-github-secret' });
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('makes an invite without a warning, and its page shows the provider button', async () => {
    serving.controller.store.people.put('github:1', ['admin'], 'test', Date.now());
    const admin = await loginAs(serving, 'github:1');
    expect((await admin.get('/admin')).text).not.toContain('No login provider is set up');
    const made = JSON.parse((await admin.post('/admin/invites', { ttl: '1h', permissions: 'start' }, { headers: json })).text) as { link: string; warning?: string };
    expect(made.warning).toBeUndefined();
    const page = await new WebClient(serving.url).get(pathOf(serving, made.link));
    expect(page.text).toContain('Log in with GitHub');
    expect(page.text).not.toContain('no login provider');
  });
});
