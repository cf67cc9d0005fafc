// The web app in a real browser: headless Chromium (playwright-core) against one OoD with a real OpenID
// provider (panva's oidc-provider) on loopback. Logins go through the provider's own login and consent
// pages, cards change live over server-sent events, and the pages are checked with axe-core.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AxeResults } from 'axe-core';
import type { Browser, BrowserContext, BrowserContextOptions, Cookie, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { launchBrowser } from './helpers/browser.js';
import { serveInProcess } from './helpers/in-process.js';
import { startOidcProvider, type RunningProvider } from './helpers/oidc-provider.js';
import { freePort, makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs } from './helpers/web-client.js';


const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url));

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const ALICE = { sub: 'alice', name: 'Alice Example' };
const BOB = { sub: 'bob', name: 'Bob Example' };
const MALLORY = { sub: 'mallory', name: 'Mallory Example' };
const id = (account: { sub: string }) => `testid:${account.sub}`;

/** Every Playwright wait in a test gives up after this, so a stuck page fails the step, not the file. */
const STEP_MS = 15_000;

describe('the web app in Chromium, logging in through a real OpenID provider', () => {
  let provider: RunningProvider;
  let home: OodHome;
  let serving: Serving;
  let browser: Browser;
  let contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // The redirect URI names OoD's port, which the provider must know before OoD listens.
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({
      clients: [{ clientId: 'ood', clientSecret: SECRET, redirectUris: [`${origin}/connect/oidc-testid/callback`] }],
      accounts: [ALICE, BOB, MALLORY],
    });
    home = await makeOodHome({
      config: {
        listen: { host: '127.0.0.1', port },
        web: { publicUrl: origin, admins: [id(ALICE)], providers: { oidc: [{ name: 'testid', label: 'Test ID', issuer: provider.issuer, clientId: 'ood' }] } },
      },
    });
    serving = await serveInProcess(home.configPath, { OOD_OAUTH_TESTID_SECRET: SECRET });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await serving?.close();
    await home?.cleanup();
    await provider?.close();
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    contexts = [];
  });

  /** A fresh browser profile (cookies, storage), closed after the test. */
  async function newPage(options: BrowserContextOptions = {}): Promise<Page> {
    const context = await browser.newContext(options);
    contexts.push(context);
    context.setDefaultTimeout(STEP_MS);
    context.setDefaultNavigationTimeout(STEP_MS);
    return await context.newPage();
  }

  const isOverviewLoad = (r: Response) => r.url() === `${serving.url}/` && r.request().isNavigationRequest();

  /** From OoD's login page through the provider's login and consent pages; returns OoD's answer for `/` at the end. */
  async function logInWithProvider(page: Page, account: { sub: string }): Promise<Response> {
    await page.goto(`${serving.url}/login`);
    await page.getByRole('link', { name: 'Log in with Test ID' }).click();
    await page.locator('input[name="login"]').waitFor();
    expect(page.url().startsWith(provider.issuer)).toBe(true);
    await page.fill('input[name="login"]', account.sub);
    await page.fill('input[name="password"]', 'anything');
    const [landed] = await Promise.all([
      page.waitForResponse(isOverviewLoad),
      (async () => {
        await page.click('button[type="submit"]');
        await page.click('button[type="submit"]:has-text("Continue")');
      })(),
    ]);
    await page.waitForLoadState('domcontentloaded');
    expect(provider.serverErrors).toEqual([]);
    return landed;
  }

  const phaseOf = async (page: Page) => (await page.locator('#server-world .phase').textContent())?.trim();

  /** Waits until the card shows `phase`, noting every phase it showed on the way. */
  async function waitForPhase(page: Page, phase: string, timeoutMs: number): Promise<string[]> {
    const seen: string[] = [];
    await waitUntil(`the card to show "${phase}"`, async () => {
      const now = await phaseOf(page);
      if (now !== undefined && seen.at(-1) !== now) seen.push(now);
      return now === phase;
    }, timeoutMs, 100);
    return seen;
  }

  const marker = (page: Page) => page.evaluate<number | undefined>('window.__marker');

  /**
   * Records every phase the card shows, as the page changes it: a short one (a local start or stop can
   * pass through a phase in well under the 100 ms between two polls of waitForPhase) is seen all the same.
   */
  const recordPhases = (page: Page) =>
    page.evaluate(`window.__phases = [];
      new MutationObserver(() => {
        const shown = document.querySelector('#server-world .phase')?.textContent?.trim();
        if (shown && window.__phases.at(-1) !== shown) window.__phases.push(shown);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });`);
  const phasesShown = (page: Page) => page.evaluate<string[]>('window.__phases');

  it('lets an admin in through the provider, onto the overview', async () => {
    const page = await newPage();
    const landed = await logInWithProvider(page, ALICE);

    expect(landed.status()).toBe(200);
    expect(page.url()).toBe(`${serving.url}/`);
    expect(await page.locator('#server-world').isVisible()).toBe(true);
    expect(await phaseOf(page)).toBe('Asleep');
    expect((await page.locator('header .me').textContent())?.trim()).toBe(ALICE.name);
    expect(await page.locator('header a[href="/admin"]').textContent()).toBe('People');
  }, 30_000);

  it('shows someone the provider knows but OoD does not the 403 page, with whom to ask', async () => {
    const page = await newPage();
    const landed = await logInWithProvider(page, MALLORY);

    expect(landed.status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('Not on the list');
    const text = (await page.locator('main').textContent()) ?? '';
    // Her name as the provider gave it, and her identity, which an admin adds.
    expect(text).toContain(`You are logged in as ${MALLORY.name} (${id(MALLORY)}), but this OoD does not know you yet`);
    // The admins are named as they last logged in (alice did in the first test), by identity otherwise.
    const alice = serving.controller.store.people.get(id(ALICE))?.name ?? id(ALICE);
    expect(text).toContain(`Ask its admin, ${alice}, to add ${id(MALLORY)}`);
    expect(await page.locator('#server-world').count()).toBe(0);
    expect(serving.controller.store.people.get(id(MALLORY))).toBeUndefined();
  }, 30_000);

  it('refuses a callback whose state this browser did not start', async () => {
    const page = await newPage();
    await page.goto(`${serving.url}/login`);
    await page.getByRole('link', { name: 'Log in with Test ID' }).click();
    // A login is under way: the session holds grant's state, and the browser is at the provider.
    await page.locator('input[name="login"]').waitFor();

    const forged = await page.goto(`${serving.url}/connect/oidc-testid/callback?code=x&state=forged`);
    expect(forged?.status()).toBe(400);
    expect(await page.locator('h1').textContent()).toBe('That did not work');
    expect(await page.locator('.error-message').textContent()).toContain('its state is missing or different');

    await page.goto(`${serving.url}/`);
    expect(page.url()).toBe(`${serving.url}/login`);
  }, 30_000);

  it('refuses a replayed callback and leaves the session logged in', async () => {
    const page = await newPage();
    const callbacks: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/connect/oidc-testid/callback') callbacks.push(r.url());
    });
    await logInWithProvider(page, ALICE);
    expect(callbacks).toHaveLength(1);
    expect(new URL(callbacks[0]!).searchParams.get('code')).toBeTruthy();
    const logins = () => serving.controller.store.audit.list(1000).filter((a) => a.action === 'login' && a.actor === id(ALICE)).length;
    const loginsBefore = logins();

    const replayed = await page.goto(callbacks[0]!);
    expect(replayed?.status()).toBe(400);
    expect(await page.locator('.error-message').textContent()).toContain('its state is missing or different');
    expect(logins()).toBe(loginsBefore);

    // What this asserts: the session the real callback made still works (a refused replay ends nothing).
    const overview = await page.goto(`${serving.url}/`);
    expect(overview?.status()).toBe(200);
    expect(page.url()).toBe(`${serving.url}/`);
    expect((await page.locator('header .me').textContent())?.trim()).toBe(ALICE.name);
  }, 30_000);

  it('ends the session on Log out, so its saved cookies no longer work', async () => {
    const page = await newPage();
    await logInWithProvider(page, ALICE);
    const saved: Cookie[] = await page.context().cookies();
    expect(saved.map((c) => c.name)).toContain('ood.sid');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${serving.url}/login?bye`);
    expect(await page.locator('.notice').textContent()).toBe('You are logged out.');

    const other = await newPage();
    await other.context().addCookies(saved);
    await other.goto(`${serving.url}/`);
    expect(other.url()).toBe(`${serving.url}/login`);
  }, 30_000);

  it('lets the one-time link of an OoD without providers in once', async () => {
    const bare = await makeOodHome();
    const alone = await serveInProcess(bare.configPath);
    try {
      expect(alone.loginLink).toMatch(/\/login\/once\?token=/);
      const page = await newPage();
      await page.goto(alone.loginLink!);
      expect(await page.locator('h1').textContent()).toBe('Log in as the first admin');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${alone.url}/`);
      expect(await page.locator('#server-world').isVisible()).toBe(true);
      expect(await page.locator('header a[href="/admin"]').textContent()).toBe('People');

      const again = await newPage();
      const refused = await again.goto(alone.loginLink!);
      expect(refused?.status()).toBe(410);
      expect(await again.locator('.error-message').textContent()).toContain('already used');
    } finally {
      await alone.close();
      await bare.cleanup();
    }
  }, 45_000);

  it('follows a start, a player and a stop live, and holds a starter to starting', async () => {
    serving.controller.store.people.put(id(BOB), ['start'], 'test', Date.now());
    const page = await newPage({ viewport: { width: 1280, height: 800 } });
    await logInWithProvider(page, BOB);
    expect((await page.locator('header .me').textContent())?.trim()).toBe(BOB.name);
    await page.evaluate('window.__marker = 1');

    await recordPhases(page);
    await page.locator('#server-world').getByRole('button', { name: 'Start', exact: true }).click();
    const polled = await waitForPhase(page, 'Up', 90_000);
    const shown = await phasesShown(page);
    // The card went through the starting phases on this page, not only to the end.
    expect([...polled, ...shown].some((p) => p.startsWith('Starting:')), `phases shown: ${shown.join(' → ')}`).toBe(true);
    expect(await page.locator('#address-world').textContent()).toBe(`127.0.0.1:${home.gamePort}`);

    const bot = await joinBot(home.gamePort, 'Steve_ood');
    try {
      await page.locator('#server-world .players .player', { hasText: 'Steve_ood' }).waitFor();
      expect(await marker(page)).toBe(1);

      mkdirSync(RESULTS_DIR, { recursive: true });
      await page.screenshot({ path: `${RESULTS_DIR}overview-desktop.png`, fullPage: true });
      await page.setViewportSize({ width: 375, height: 740 });
      await page.screenshot({ path: `${RESULTS_DIR}overview-375.png`, fullPage: true });
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      await page.setViewportSize({ width: 1280, height: 800 });

      // Bob may start and keep alive, not stop: the card offers Keep alive and no Stop.
      const card = page.locator('#server-world');
      expect(await card.getByRole('button', { name: 'Keep alive' }).count()).toBe(1);
      expect(await card.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(0);
      expect(await card.locator('form[action="/servers/world/stop"]').count()).toBe(0);

      // A stop forged with his cookies and his valid CSRF token is refused for want of permission...
      const csrf = await card.locator('input[name="_csrf"]').first().inputValue();
      const json = { accept: 'application/json' };
      const forgedStop = await page.request.post(`${serving.url}/servers/world/stop`, { form: { _csrf: csrf }, headers: json, maxRedirects: 0 });
      expect(forgedStop.status()).toBe(403);
      expect((await forgedStop.json() as { error: string }).error).toContain('You may not stop servers');
      // ...an action he may do, without the token, is refused for the token...
      const noToken = await page.request.post(`${serving.url}/servers/world/keepalive`, { form: {}, headers: json, maxRedirects: 0 });
      expect(noToken.status()).toBe(403);
      expect((await noToken.json() as { error: string }).error).toContain('CSRF token does not match');
      // ...and with the token it works, so the token was good and the 403s were the checks.
      const keepAlive = await page.request.post(`${serving.url}/servers/world/keepalive`, { form: { _csrf: csrf }, headers: json, maxRedirects: 0 });
      expect(keepAlive.status()).toBe(202);
      expect(serving.controller.view('world').state).toMatchObject({ desired: 'up', phase: 'running' });
    } finally {
      await leave(bot);
    }
    await page.locator('#server-world .players-none').waitFor();
    expect(await marker(page)).toBe(1);

    const admin = await newPage();
    await logInWithProvider(admin, ALICE);
    await admin.evaluate('window.__marker = 1');
    await recordPhases(admin);
    await admin.locator('#server-world').getByRole('button', { name: 'Stop', exact: true }).click();
    const stopping = [...(await waitForPhase(admin, 'Asleep', 90_000)), ...(await phasesShown(admin))];
    expect(stopping.some((p) => p.startsWith('Stopping:')), `phases shown: ${stopping.join(' → ')}`).toBe(true);
    expect(await marker(admin)).toBe(1);
    // Bob's page, open all along, saw the stop too.
    await waitForPhase(page, 'Asleep', 10_000);
    expect(await marker(page)).toBe(1);
  }, 240_000);

  /** A browser profile logged in with a WebClient's session (a one-time link, no provider round trip). */
  async function pageAs(client: { cookie: string }, url: string, options: BrowserContextOptions = {}): Promise<Page> {
    const page = await newPage(options);
    await page.context().addCookies(client.cookie.split('; ').map((pair) => {
      const [name, ...value] = pair.split('=');
      return { name: name!, value: value.join('='), url };
    }));
    return page;
  }

  it('fits every page into 375 px and 1280 px without sideways scrolling, and saves a screenshot of each', async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const wide: string[] = [];
    /** Opens `path` at both widths: no horizontal overflow, and a full-page screenshot named `name`. */
    const visit = async (page: Page, base: string, path: string, name: string, status: number) => {
      for (const width of [375, 1280]) {
        await page.setViewportSize({ width, height: width === 375 ? 740 : 800 });
        const response = await page.goto(`${base}${path}`);
        expect(response?.status(), `${name} (${path})`).toBe(status);
        await page.screenshot({ path: `${RESULTS_DIR}${name}-${width}.png`, fullPage: true });
        const sizes = await page.evaluate<{ scroll: number; inner: number }>('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })');
        if (sizes.scroll > sizes.inner) wide.push(`${name} (${path}) at ${width} px is ${sizes.scroll} px wide`);
      }
    };

    const admin = await pageAs(await loginAs(serving, id(ALICE)), serving.url);
    await visit(admin, serving.url, '/', 'overview', 200);
    await visit(admin, serving.url, '/servers/world', 'history', 200);
    // The People page just after making an invite: the one-time link is shown, long as it is.
    await admin.setViewportSize({ width: 375, height: 740 });
    await admin.goto(`${serving.url}/admin`);
    await admin.getByRole('button', { name: 'Make an invite link' }).click();
    await admin.locator('#invite-link').waitFor();
    await admin.screenshot({ path: `${RESULTS_DIR}people-new-invite-375.png`, fullPage: true });
    const inviteLink = (await admin.locator('#invite-link').textContent())!;
    expect(await admin.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await visit(admin, serving.url, '/admin', 'people', 200);
    await visit(admin, serving.url, '/no/such/page', 'error-404', 404);

    const stranger = await newPage();
    await visit(stranger, serving.url, '/login', 'login', 200);
    await visit(stranger, serving.url, new URL(inviteLink).pathname + new URL(inviteLink).search, 'invite', 200);
    const once = serving.controller.store.tokens.create('login', id(BOB), 'test', Date.now(), 60_000);
    await visit(stranger, serving.url, `/login/once?token=${once}`, 'one-time-login', 200);
    await visit(stranger, serving.url, '/invite?token=forged', 'error-link-unknown', 404);
    const outsider = await pageAs(await loginAs(serving, 'testid:nobody'), serving.url);
    await visit(outsider, serving.url, '/', 'not-on-the-list', 403);

    // An OoD with no login provider: its People page offers one-time login links, its invite page says what to ask for.
    const bare = await makeOodHome();
    const alone = await serveInProcess(bare.configPath);
    try {
      const bareAdmin = await pageAs(await loginAs(alone, 'local:admin'), alone.url);
      await visit(bareAdmin, alone.url, '/admin', 'people-no-provider', 200);
      const invite = alone.controller.store.tokens.create('invite', 'start', 'test', Date.now(), 60_000);
      await visit(await newPage(), alone.url, `/invite?token=${invite}`, 'invite-no-provider', 200);
    } finally {
      await alone.close();
      await bare.cleanup();
    }
    expect(wide, wide.join('\n')).toEqual([]);
  }, 120_000);

  it('has no serious or critical axe-core violations on the overview, history, admin and login pages, light and dark', async () => {
    // bypassCSP: the pages allow only their own script, and axe is injected as an inline one.
    const alice = await loginAs(serving, id(ALICE));
    const problems: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await newPage({ bypassCSP: true, colorScheme });
      await page.context().addCookies(alice.cookie.split('; ').map((pair) => {
        const [name, ...value] = pair.split('=');
        return { name: name!, value: value.join('='), url: serving.url };
      }));
      const anonymous = await newPage({ bypassCSP: true, colorScheme });
      for (const [p, path] of [[page, '/'], [page, '/servers/world'], [page, '/admin'], [anonymous, '/login']] as const) {
        const response = await p.goto(`${serving.url}${path}`);
        expect(response?.status(), path).toBe(200);
        expect(new URL(p.url()).pathname, path).toBe(path);
        await p.addScriptTag({ path: AXE_SCRIPT });
        const results = await p.evaluate<AxeResults>("axe.run(document, { resultTypes: ['violations'] })");
        for (const v of results.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
          problems.push(`${colorScheme} ${path}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 60_000);

  it('shows the World versions section and the restore confirmation at 375 and 1280 px: no overflow, axe clean', async () => {
    // Two versions of its own: the server started and stopped twice (earlier tests may have made more).
    const api = apiFor(serving.url);
    for (let i = 0; i < 2; i++) {
      expect((await api.start()).status).toBe(202);
      await waitUntil('running', async () => (await api.server()).phase === 'running', 90_000);
      expect((await api.stop()).status).toBe(202);
      await waitUntil('archived', async () => (await api.server()).phase === 'archived', 90_000);
    }
    const versions = (await api.call('GET', '/api/servers/world/worlds')).body.versions as { id: string; next: boolean }[];
    expect(versions.length).toBeGreaterThanOrEqual(2);
    const older = versions[1]!;

    mkdirSync(RESULTS_DIR, { recursive: true });
    const alice = await loginAs(serving, id(ALICE));
    const problems: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      // bypassCSP: axe is injected as an inline script.
      const page = await pageAs(alice, serving.url, { bypassCSP: true, colorScheme });
      for (const [path, name] of [['/servers/world', 'world-versions'], [`/servers/world/worlds/${older.id}/restore`, 'restore-confirm']] as const) {
        for (const width of [375, 1280]) {
          await page.setViewportSize({ width, height: width === 375 ? 740 : 800 });
          const response = await page.goto(`${serving.url}${path}`);
          expect(response?.status(), path).toBe(200);
          if (name === 'world-versions') {
            const section = page.locator('section[aria-labelledby="worlds-title"]');
            expect(await section.locator('tbody tr').count()).toBe(versions.length);
            expect(await section.getByRole('link', { name: `Restore ${older.id}…` }).count()).toBe(1);
            // A session of a few seconds says so, as the Sessions list above does, not "1 min".
            expect(await section.locator('tbody tr').first().innerText()).toMatch(/ran \d+ s\b/);
            await section.scrollIntoViewIfNeeded();
          } else {
            expect(await page.locator('h1').textContent()).toBe(`Restore world to ${older.id}?`);
            expect(await page.locator('main').textContent()).toContain(versions[0]!.id);
            expect(await page.getByRole('button', { name: `Restore ${older.id}` }).count()).toBe(1);
          }
          if (colorScheme === 'light') await page.screenshot({ path: `${RESULTS_DIR}${name}-${width}.png`, fullPage: true });
          const sizes = await page.evaluate<{ scroll: number; inner: number }>('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })');
          if (sizes.scroll > sizes.inner) problems.push(`${colorScheme} ${path} at ${width} px is ${sizes.scroll} px wide`);
          await page.addScriptTag({ path: AXE_SCRIPT });
          const results = await page.evaluate<AxeResults>("axe.run(document, { resultTypes: ['violations'] })");
          for (const v of results.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
            problems.push(`${colorScheme} ${path} at ${width} px: ${v.id} (${v.impact}) at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
          }
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 240_000);
});
