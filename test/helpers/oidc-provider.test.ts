import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { startOidcProvider, type RunningProvider } from './oidc-provider.js';

// Proves the two browser-test fixtures against each other: a real login in Chromium against the real
// provider, a code at a loopback redirect URI, and an ID token that verifies against the published keys.


const CLIENT = { clientId: 'ood-web', clientSecret: 'a-test-secret-that-is-long-enough-for-hs256' };
const ALICE = { sub: 'alice', name: 'Alice Example', picture: 'http://127.0.0.1/alice.png', email: 'alice@example.test' };

interface Discovery { issuer: string; authorization_endpoint: string; token_endpoint: string; userinfo_endpoint: string; jwks_uri: string }
interface TokenResponse { id_token: string; access_token: string; token_type: string }

describe('test OIDC provider with Chromium', () => {
  const callbacks: URLSearchParams[] = [];
  let callbackServer: Server;
  let redirectUri: string;
  let provider: RunningProvider;
  let discovery: Discovery;
  let browser: Browser;

  beforeAll(async () => {
    callbackServer = createServer((req, res) => {
      // Only the redirect counts; Chromium also asks this origin for /favicon.ico.
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/auth/callback') callbacks.push(url.searchParams);
      res.setHeader('content-type', 'text/plain');
      res.end('callback received');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/auth/callback`;
    provider = await startOidcProvider({ clients: [{ ...CLIENT, redirectUris: [redirectUri] }], accounts: [ALICE] });
    discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json() as Discovery;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await provider?.close();
    callbackServer?.closeAllConnections();
    await new Promise<void>((resolve) => (callbackServer ? callbackServer.close(() => resolve()) : resolve()));
  });

  const authUrl = (state: string, nonce: string) => `${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: CLIENT.clientId, response_type: 'code', scope: 'openid profile email', redirect_uri: redirectUri, state, nonce,
  })}`;

  async function signIn(page: Page, login: string): Promise<void> {
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'anything');
    await page.click('button[type="submit"]');
  }

  async function redeem(code: string, auth: 'post' | 'basic'): Promise<TokenResponse> {
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (auth === 'post') {
      body.set('client_id', CLIENT.clientId);
      body.set('client_secret', CLIENT.clientSecret);
    } else {
      headers.authorization = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`;
    }
    const res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body });
    const json = await res.json() as TokenResponse;
    expect(res.status, JSON.stringify(json)).toBe(200);
    return json;
  }

  it('publishes its endpoints under the exact issuer', () => {
    expect(provider.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(discovery).toMatchObject({
      issuer: provider.issuer,
      authorization_endpoint: `${provider.issuer}/auth`,
      token_endpoint: `${provider.issuer}/token`,
      userinfo_endpoint: `${provider.issuer}/me`,
      jwks_uri: `${provider.issuer}/jwks`,
    });
  });

  it('signs a known account in and issues an ID token with nonce and profile claims', async () => {
    const context = await browser.newContext();
    const outside: string[] = [];
    context.on('request', (r) => { if (!new URL(r.url()).hostname.startsWith('127.')) outside.push(r.url()); });
    const page = await context.newPage();
    await page.goto(authUrl('S', 'N'));
    await signIn(page, ALICE.sub);
    await page.click('button[type="submit"]:has-text("Continue")');
    await page.waitForURL(`${redirectUri}?**`);

    const query = new URL(page.url()).searchParams;
    expect(query.get('state')).toBe('S');
    expect(query.get('iss')).toBe(provider.issuer);
    const code = query.get('code');
    expect(code).toBeTruthy();
    expect(callbacks.at(-1)?.get('code')).toBe(code);

    const tokens = await redeem(code ?? '', 'post');
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: provider.issuer,
      audience: CLIENT.clientId,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: 'alice', nonce: 'N', name: ALICE.name, picture: ALICE.picture, email: ALICE.email });

    const userinfo = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await userinfo.json()).toMatchObject({ sub: 'alice', name: ALICE.name, email: ALICE.email });

    // Same browser session: no login or consent page this time; the code also redeems with Basic auth.
    await page.goto(authUrl('S2', 'N2'));
    await page.waitForURL(`${redirectUri}?**`);
    const again = new URL(page.url()).searchParams;
    expect(again.get('state')).toBe('S2');
    const second = await redeem(again.get('code') ?? '', 'basic');
    expect((await jwtVerify(second.id_token, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: provider.issuer, audience: CLIENT.clientId })).payload.nonce).toBe('N2');

    expect(outside).toEqual([]);
    expect(provider.serverErrors).toEqual([]);
    await context.close();
  }, 20_000);

  it('does not issue a code for an unknown login, and a known login afterwards still works', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const before = callbacks.length;
    await page.goto(authUrl('U', 'N'));
    const firstForm = page.url();
    await signIn(page, 'mallory');

    // A fresh login form comes back instead of a consent page or a redirect.
    await page.waitForURL((u) => u.pathname.startsWith('/interaction/') && u.href !== firstForm, { timeout: 5_000 });
    await expect.poll(() => page.locator('input[name="login"]').count()).toBe(1);
    expect(await page.locator('h1').textContent()).toBe('Sign-in');
    expect(callbacks.length).toBe(before);

    await signIn(page, ALICE.sub);
    await page.click('button[type="submit"]:has-text("Continue")');
    await page.waitForURL(`${redirectUri}?**`);
    const query = new URL(page.url()).searchParams;
    expect(query.get('state')).toBe('U');
    expect(query.get('code')).toBeTruthy();
    expect(provider.serverErrors).toEqual([]);
    await context.close();
  }, 20_000);
});
