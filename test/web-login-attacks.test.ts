import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOGIN_REFUSED } from '../controller/store/audit-retention.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { startRecordingIssuer, type RecordingIssuer } from './helpers/recording-issuer.js';
import { loginAs, WebClient } from './helpers/web-client.js';

const GITHUB_SECRET = 'github-secret-must-stay-home';
const GOOD_SECRET = 'good-secret';
const EVIL_SECRET = 'evil-secret';

/** The query of a redirect's Location. */
const paramsOf = (location: string | null) => new URL(location!).searchParams;

/** Attacks on the login round trips, sessions and the People page, each as an attacker would try it. */
describe('web login under attack', () => {
  let home: OodHome;
  let serving: Serving;
  let good: RecordingIssuer;
  let evil: RecordingIssuer;
  const rows = () => (serving.controller.store.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n;
  // Each test comes from its own address (behind the trusted proxy), so one test's rate limits do not reach another's.
  let nextAddress = 10;
  const fromNewAddress = () => ({ 'x-forwarded-for': `198.51.100.${nextAddress++}` });

  beforeAll(async () => {
    good = await startRecordingIssuer({ clientId: 'ood-good', sub: 'alice' });
    evil = await startRecordingIssuer({ clientId: 'ood-evil', sub: 'mallory' });
    home = await makeOodHome({
      config: {
        web: {
          trustProxy: true,
          admins: ['good:alice'],
          providers: {
            github: { clientId: 'Iv1.github' },
            oidc: [
              { name: 'good', issuer: good.issuer, clientId: 'ood-good' },
              { name: 'evil', issuer: evil.issuer, clientId: 'ood-evil' },
            ],
          },
        },
      },
    });
    serving = await serveInProcess(home.configPath, { OOD_OAUTH_GITHUB_SECRET: GITHUB_SECRET, OOD_OAUTH_GOOD_SECRET: GOOD_SECRET, OOD_OAUTH_EVIL_SECRET: EVIL_SECRET });
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
    await good?.close();
    await evil?.close();
  });

  it("never sends one provider's client secret to another provider's token endpoint", async () => {
    const headers = fromNewAddress();
    const attacker = new WebClient(serving.url);
    const start = await attacker.get('/connect/github', headers);
    expect(start.status).toBe(302);
    const state = paramsOf(start.location).get('state')!;
    const replay = await attacker.get(`/connect/oidc-evil/callback?code=x&state=${state}`, headers);
    expect(evil.tokenRequests).toEqual([]);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('was started with GitHub');
    expect(replay.text).not.toContain(GITHUB_SECRET);
  });

  it('refuses a callback at the wrong provider without spoiling the login this browser started', async () => {
    const headers = fromNewAddress();
    const browser = new WebClient(serving.url);
    const start = await browser.get('/connect/oidc-good', headers);
    expect(start.location).toMatch(new RegExp(`^${good.issuer}/authorize\\?`));
    const state = paramsOf(start.location).get('state')!;
    const nonce = paramsOf(start.location).get('nonce')!;
    expect((await browser.get(`/connect/oidc-evil/callback?code=${nonce}&state=${state}`, headers)).status).toBe(400);
    expect(evil.tokenRequests).toEqual([]);
    const done = await browser.get(`/connect/oidc-good/callback?code=${nonce}&state=${state}`, headers);
    expect(done.status).toBe(302);
    expect(done.location).toBe('/');
    expect(good.tokenRequests.at(-1)!.form.client_secret).toBe(GOOD_SECRET);
    expect((await browser.get('/', headers)).status).toBe(200);
  });

  it('starts an OpenID login from a link with a query string, and the query changes nothing', async () => {
    const headers = fromNewAddress();
    for (const query of ['prompt=none', 'utm_source=mail&utm_campaign=x']) {
      const start = await new WebClient(serving.url).get(`/connect/oidc-good?${query}`, headers);
      expect(start.status, query).toBe(302);
      expect(start.location).toMatch(new RegExp(`^${good.issuer}/authorize\\?`));
    }
    // A link that tries to move the token endpoint: the code and secret still go to the provider's own.
    const browser = new WebClient(serving.url);
    const start = await browser.get(`/connect/oidc-good?access_url=${encodeURIComponent(`${evil.issuer}/token`)}`, headers);
    expect(start.status).toBe(302);
    const { state, nonce } = Object.fromEntries(paramsOf(start.location));
    expect((await browser.get(`/connect/oidc-good/callback?code=${nonce}&state=${state}`, headers)).location).toBe('/');
    expect(evil.tokenRequests).toEqual([]);
  });

  it('trusts one proxy hop: the address the proxy appended, not one the client wrote', async () => {
    // The proxy appends the address it saw; everything left of it came from the client.
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) {
      const res = await new WebClient(serving.url).post('/login/once', { token: 'forged' }, { headers: { 'x-forwarded-for': `10.9.${i}.1, 203.0.113.7` } });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 429).length).toBe(5);
    const token = serving.controller.store.tokens.create('login', LOCAL_ADMIN, 'test', Date.now(), 60_000);
    const client = new WebClient(serving.url);
    const headers = { 'x-forwarded-for': '192.0.2.66, 203.0.113.8' };
    await client.request('GET', `/login/once?token=${token}`, { headers });
    expect((await client.request('POST', '/login/once', { form: { token }, headers })).status).toBe(302);
    // LOCAL_ADMIN is not on this list, so the login is recorded as a refused one; its source is what counts here.
    const login = serving.controller.store.audit.list(5).find((a) => a.action === LOGIN_REFUSED);
    expect(login?.source).toBe('203.0.113.8');
  });

  it('writes no session row for anonymous page views, and still checks the CSRF token of an anonymous POST', async () => {
    const before = rows();
    for (let i = 0; i < 20; i++) {
      const page = await new WebClient(serving.url).get(i % 2 ? '/login' : '/no/such/page', fromNewAddress());
      expect(page.status).toBe(i % 2 ? 200 : 404);
    }
    expect(rows()).toBe(before);
    // The one-time link's form works with the pre-login token, and not without it or with another browser's.
    const token = serving.controller.store.tokens.create('login', LOCAL_ADMIN, 'test', Date.now(), 60_000);
    const headers = fromNewAddress();
    const browser = new WebClient(serving.url);
    await browser.get(`/login/once?token=${token}`, headers);
    const other = new WebClient(serving.url);
    await other.get('/login', headers);
    expect(other.csrf).not.toBe(browser.csrf);
    expect((await browser.post('/login/once', { token, _csrf: other.csrf }, { csrf: false, headers })).status).toBe(403);
    expect((await browser.post('/login/once', { token }, { csrf: false, headers })).status).toBe(403);
    expect(rows()).toBe(before);
    expect((await browser.post('/login/once', { token }, { headers })).location).toBe('/');
    expect(rows()).toBe(before + 1);
  });

  it('rate-limits the anonymous pages per address', async () => {
    const headers = fromNewAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 70; i++) statuses.push((await new WebClient(serving.url).get('/login', headers)).status);
    expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Another address is not affected.
    expect((await new WebClient(serving.url).get('/login', fromNewAddress())).status).toBe(200);
  });

  it('never leaves the list without an admin', async () => {
    const people = serving.controller.store.people;
    const admin = await loginAs(serving, 'good:alice');
    const self = await admin.post('/admin/people', { identity: 'good:alice', permissions: 'start' });
    expect(self.status).toBe(409);
    expect(self.text).toContain('another admin');
    expect(people.get('good:alice')!.permissions).toContain('admin');
    // A second admin may demote the first, but then not themselves.
    expect((await admin.post('/admin/people', { identity: 'github:50', permissions: 'admin' })).status).toBe(303);
    const second = await loginAs(serving, 'github:50');
    expect((await second.post('/admin/people', { identity: 'good:alice', permissions: ['start', 'stop'] })).status).toBe(303);
    expect(people.get('good:alice')!.permissions).toEqual(['start', 'stop']);
    expect((await second.post('/admin/people', { identity: 'github:50', permissions: 'start' })).status).toBe(409);
    expect(people.admins().map((p) => p.identity)).toEqual(['github:50']);
  });
});

describe('a controller behind two proxies', () => {
  it('trusts exactly the configured number of hops', async () => {
    const home = await makeOodHome({ config: { web: { trustProxy: 2 } } });
    const serving = await serveInProcess(home.configPath);
    try {
      const token = serving.controller.store.tokens.create('login', LOCAL_ADMIN, 'test', Date.now(), 60_000);
      const client = new WebClient(serving.url);
      // client-written, then what the outer proxy saw (the client), then the outer proxy as the inner one saw it.
      const headers = { 'x-forwarded-for': '192.0.2.1, 203.0.113.9, 10.0.0.2' };
      await client.request('GET', `/login/once?token=${token}`, { headers });
      expect((await client.request('POST', '/login/once', { form: { token }, headers })).status).toBe(302);
      expect(serving.controller.store.audit.list(5).find((a) => a.action === 'login')?.source).toBe('203.0.113.9');
    } finally {
      await serving.close();
      await home.cleanup();
    }
  });
});
