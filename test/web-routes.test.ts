import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { loginAs, WebClient } from './helpers/web-client.js';

/** Every web route's refusals over plain HTTP: 400, 401, 403, 404 (and 409, 410, 429), each with its words. */
describe('web routes over HTTP', () => {
  let home: OodHome;
  let serving: Serving;
  let admin: WebClient;
  let starter: WebClient;
  const people = () => serving.controller.store.people;

  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    admin = await loginAs(serving, LOCAL_ADMIN);
    people().put('github:2', ['start'], 'test', Date.now());
    starter = await loginAs(serving, 'github:2');
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('sends a stranger to the login page, and a script without credentials gets a JSON 401', async () => {
    const stranger = new WebClient(serving.url);
    const page = await stranger.get('/');
    expect(page.status).toBe(302);
    expect(page.location).toBe('/login');
    for (const path of ['/servers/world', '/admin']) expect((await stranger.get(path)).location).toBe('/login');
    const api = await stranger.get('/api/servers', { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.text).error).toMatch(/Bearer/);
    const events = await stranger.get('/events', { accept: 'text/event-stream' });
    expect(events.status).toBe(401);
    const post = await stranger.post('/servers/world/start');
    expect(post.status).toBe(401);
    expect(post.text).toContain('not logged in');
  });

  it('shows someone not on the list a 403 page with who they are and whom to ask', async () => {
    const outsider = await loginAs(serving, 'discord:99');
    const page = await outsider.get('/');
    expect(page.status).toBe(403);
    expect(page.text).toContain('Not on the list');
    expect(page.text).toContain('discord:99');
    expect(page.text).toContain('Admin on this machine');
    expect((await outsider.get('/events', { accept: 'text/event-stream' })).status).toBe(403);
    expect((await outsider.post('/servers/world/start')).status).toBe(403);
  });

  it('refuses a button without the permission, without the CSRF token, and on a server or action that does not exist', async () => {
    const stop = await starter.post('/servers/world/stop');
    expect(stop.status).toBe(403);
    expect(stop.text).toContain('may not stop');
    const noCsrf = await starter.post('/servers/world/start', {}, { csrf: false });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.text).toContain('CSRF');
    const wrongCsrf = await starter.post('/servers/world/start', { _csrf: 'forged' }, { csrf: false });
    expect(wrongCsrf.status).toBe(403);
    expect((await starter.post('/servers/nope/start')).status).toBe(404);
    const action = await starter.post('/servers/world/explode');
    expect(action.status).toBe(404);
    expect(action.text).toContain('start, stop and keepalive');
    const keep = await starter.post('/servers/world/keepalive', {}, { headers: { accept: 'application/json' } });
    expect(keep.status).toBe(409);
    expect(JSON.parse(keep.text).error).toMatch(/not running/);
    expect((await starter.get('/servers/nope')).status).toBe(404);
    expect((await starter.get('/no/such/page')).status).toBe(404);
    // Nothing was asked for: the audit log holds none of these.
    expect(serving.controller.store.audit.forServer('world')).toEqual([]);
  });

  it('keeps the admin page to admins, and says what is wrong with each form', async () => {
    expect((await starter.get('/admin')).status).toBe(403);
    expect((await starter.post('/admin/people', { identity: 'github:3', permissions: 'start' })).status).toBe(403);
    const badIdentity = await admin.post('/admin/people', { identity: 'not an identity', permissions: 'start' });
    expect(badIdentity.status).toBe(400);
    expect(badIdentity.text).toContain('is not an identity');
    const badPermission = await admin.post('/admin/people', { identity: 'github:3', permissions: 'root' });
    expect(badPermission.status).toBe(400);
    expect(badPermission.text).toContain('Unknown permission root');
    expect((await admin.post('/admin/people', {})).status).toBe(400);
    expect((await admin.post('/admin/people/remove', { identity: 'github:404' })).status).toBe(404);
    expect((await admin.post('/admin/people/remove', { identity: LOCAL_ADMIN })).status).toBe(409);
    expect((await admin.post('/admin/people/minecraft', { identity: 'github:2', minecraftName: 'no spaces!' })).status).toBe(400);
    expect((await admin.post('/admin/people/minecraft', { identity: 'github:404', minecraftName: 'Alex' })).status).toBe(404);
    expect((await admin.post('/admin/invites', { ttl: '1y', permissions: 'start' })).status).toBe(400);
    expect((await admin.post('/admin/invites/revoke', { hash: 'nope' })).status).toBe(404);
    expect((await admin.post('/admin/people', { identity: 'github:3' }, { csrf: false })).status).toBe(403);
  });

  it('adds a person, links a Minecraft name once, and removing someone ends their session at once', async () => {
    expect((await admin.post('/admin/people', { identity: 'github:7', permissions: ['start', 'stop'] })).status).toBe(303);
    expect(people().get('github:7')!.permissions).toEqual(['start', 'stop']);
    expect((await admin.post('/admin/people/minecraft', { identity: 'github:7', minecraftName: 'Alex_7' })).status).toBe(303);
    const taken = await admin.post('/admin/people/minecraft', { identity: 'github:2', minecraftName: 'alex_7' });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('already linked');
    const seven = await loginAs(serving, 'github:7');
    expect((await seven.get('/')).status).toBe(200);
    expect((await admin.post('/admin/people/remove', { identity: 'github:7' })).status).toBe(303);
    // The session row is gone: back to the login page, not merely "not on the list".
    expect((await seven.get('/')).location).toBe('/login');
    const page = await admin.get('/admin');
    expect(page.text).toContain('person removed');
  });

  it('makes an invite that works once, for someone not on the list yet', async () => {
    await admin.post('/admin/invites', { ttl: '1h', permissions: 'start' });
    const page = await admin.get('/admin');
    const link = /<code id="invite-link">([^<]+)<\/code>/.exec(page.text)![1]!;
    expect(link).toMatch(/\/invite\?token=/);
    // Shown once: the next view no longer has it.
    expect((await admin.get('/admin')).text).not.toContain(link);
    const path = link.slice(serving.url.length).replace(/&amp;/g, '&');
    const newcomer = await loginAs(serving, 'github:8');
    expect((await newcomer.get('/')).status).toBe(403);
    expect((await newcomer.get(path)).location).toBe('/');
    expect((await newcomer.get('/')).status).toBe(200);
    expect(people().get('github:8')!.permissions).toEqual(['start']);
    const late = await loginAs(serving, 'github:9');
    const used = await late.get(path);
    expect(used.status).toBe(410);
    expect(used.text).toContain('already used');
    expect((await late.get('/invite?token=forged')).status).toBe(404);
  });

  it('refuses one-time links that are unknown or used, and unknown login providers', async () => {
    expect((await new WebClient(serving.url).get('/login/once?token=forged')).status).toBe(404);
    const token = serving.controller.store.tokens.create('login', LOCAL_ADMIN, 'test', Date.now(), 60_000);
    const first = new WebClient(serving.url);
    await first.get(`/login/once?token=${token}`);
    expect((await first.post('/login/once', { token })).status).toBe(302);
    const second = new WebClient(serving.url);
    expect((await second.get(`/login/once?token=${token}`)).status).toBe(410);
    const expired = serving.controller.store.tokens.create('login', LOCAL_ADMIN, 'test', Date.now() - 120_000, 60_000);
    expect((await second.get(`/login/once?token=${expired}`)).text).toContain('expired');
    expect((await second.get('/connect/github')).status).toBe(404);
    expect((await second.get('/login/callback/github')).status).toBe(404);
  });

  it('serves heads and static files, and 404s the rest', async () => {
    const head = await starter.get('/heads/Steve_1.svg');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toContain('image/svg+xml');
    expect((await starter.get('/heads/not%20a%20name.svg')).status).toBe(404);
    expect((await starter.get('/static/app.js')).headers.get('content-type')).toContain('javascript');
    expect((await starter.get('/static/secret.txt')).status).toBe(404);
  });

  it('sets the session cookie HttpOnly and SameSite=Lax, and sends a CSP without unsafe-inline', async () => {
    const token = serving.controller.store.tokens.create('login', LOCAL_ADMIN, 'test', Date.now(), 60_000);
    const client = new WebClient(serving.url);
    const page = await client.get(`/login/once?token=${token}`);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const res = await fetch(`${serving.url}/login/once`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: client.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: client.csrf, token }).toString(),
    });
    const cookies = res.headers.getSetCookie().filter((c) => c.startsWith('ood.sid='));
    expect(cookies.length).toBe(1);
    expect(cookies[0]).toMatch(/httponly/i);
    expect(cookies[0]).toMatch(/samesite=lax/i);
    // Not behind a trusted proxy, on plain http: not Secure (a browser would drop it).
    expect(cookies[0]).not.toMatch(/secure/i);
  });

  it('rate-limits Start and Stop presses per person', async () => {
    const presser = await loginAs(serving, LOCAL_ADMIN);
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await presser.post('/servers/world/stop', {}, { headers: { accept: 'application/json' } })).status);
    expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('lets a page read the API with its session, but a session POST needs the CSRF header', async () => {
    const api = await admin.get('/api/servers', { accept: 'application/json' });
    expect(api.status).toBe(200);
    const noHeader = await fetch(`${serving.url}/api/servers/world/stop`, { method: 'POST', headers: { cookie: admin.cookie } });
    expect(noHeader.status).toBe(403);
    const withHeader = await fetch(`${serving.url}/api/servers/world/stop`, { method: 'POST', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf } });
    expect(withHeader.status).toBe(202);
    const link = await apiFor(serving.url).call('POST', '/api/login-link');
    expect(link.status).toBe(201);
    expect(String(link.body.link)).toMatch(/\/login\/once\?token=/);
    // A starter's session may not make login links.
    expect((await fetch(`${serving.url}/api/login-link`, { method: 'POST', headers: { cookie: starter.cookie, 'x-csrf-token': starter.csrf } })).status).toBe(403);
  });
});

describe('web settings at start-up', () => {
  const homes: OodHome[] = [];
  afterAll(async () => {
    for (const home of homes) await home.cleanup();
  });

  it('refuses to listen beyond loopback without a login provider, and names a missing client secret', async () => {
    const open = await makeOodHome({ config: { listen: { host: '0.0.0.0', port: 0 } } });
    homes.push(open);
    await expect(serveInProcess(open.configPath)).rejects.toThrow(/Listening on 0\.0\.0\.0 .*configure a login provider/);
    const secretless = await makeOodHome({ config: { web: { providers: { github: { clientId: 'Iv1.abc' } } } } });
    homes.push(secretless);
    await expect(serveInProcess(secretless.configPath)).rejects.toThrow(/OOD_OAUTH_GITHUB_SECRET/);
  });

  it('marks the session cookie Secure behind a trusted proxy that says https, and prints no login link once an admin exists', async () => {
    const home = await makeOodHome({ config: { web: { trustProxy: true, admins: ['github:1'], providers: { github: { clientId: 'Iv1.abc' } } } } });
    homes.push(home);
    const serving = await serveInProcess(home.configPath, { OOD_OAUTH_GITHUB_SECRET: 'not-a-real-secret' });
    try {
      expect(serving.loginLink).toBeUndefined();
      const token = serving.controller.store.tokens.create('login', 'github:1', 'test', Date.now(), 60_000);
      const client = new WebClient(serving.url);
      await client.request('GET', `/login/once?token=${token}`, { headers: { 'x-forwarded-proto': 'https' } });
      const done = await client.request('POST', '/login/once', { form: { token }, headers: { 'x-forwarded-proto': 'https' } });
      expect(done.status).toBe(302);
      expect(done.headers.getSetCookie().find((c) => c.startsWith('ood.sid='))).toMatch(/;\s*secure/i);
      const login = await new WebClient(serving.url).get('/login');
      expect(login.text).toContain('href="/connect/github"');
      expect(login.text).not.toContain('not-a-real-secret');
    } finally {
      await serving.close();
    }
  });
});
