// A real OpenID Connect provider (panva's oidc-provider v9) on loopback, for browser tests of the web
// app's login. It uses the library's built-in development interactions, so a browser gets through with:
//
//   login page:   fill  input[name="login"]     with the account's `sub`
//                 fill  input[name="password"]  with anything (required by the form, never checked)
//                 click button[type="submit"]   (text "Sign-in")
//   consent page: click button[type="submit"]   (text "Continue"; only shown once per client and
//                                               account in a browser session, and only for scopes the
//                                               account has not granted yet)
//   either page:  a[href$="/abort"]             ("[ Cancel ]") ends the flow with error=access_denied
//
// An unknown login does not fail with an error: findAccount yields no account, and the extra login check
// below shows the login form again, so no code is ever issued for it.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';

export interface TestAccount { sub: string; name: string; picture?: string; email?: string }
export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** What the client registers; v9 accepts client_secret_post and client_secret_basic for either. */
  tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic';
}
export interface RunningProvider {
  /** The base URL with no trailing slash, e.g. http://127.0.0.1:PORT; discovery is below it. */
  issuer: string;
  /** Errors the provider hit while serving (it answers them as server_error); a test can assert none. */
  serverErrors: readonly Error[];
  close(): Promise<void>;
}

// Only the parts of the untyped package this file touches (oidc-provider ships no .d.ts).
interface OidcCtx { oidc: { account?: unknown; session: { accountId?: string } } }
interface KoaCtx { body: unknown; response: { is(type: string): string | false } }
interface Provider {
  silent: boolean;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(fn: (ctx: KoaCtx, next: () => Promise<void>) => Promise<void>): void;
  on(event: 'server_error', listener: (ctx: unknown, err: Error) => void): void;
}
interface Policy { get(name: string): { checks: { add(check: unknown): void } } }
interface OidcModule {
  default: new (issuer: string, configuration: object) => Provider;
  interactionPolicy: {
    base(): Policy;
    Check: new (reason: string, description: string, check: (ctx: OidcCtx) => boolean) => unknown;
  };
}

const SCOPES = ['openid', 'profile', 'email'];

export async function startOidcProvider(o: { clients: TestClient[]; accounts: TestAccount[]; host?: string }): Promise<RunningProvider> {
  const host = o.host ?? '127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  try {
    const { default: Provider, interactionPolicy } = await quietly(() => import('oidc-provider') as Promise<OidcModule>);
    const configuration = await buildConfiguration(o, interactionPolicy);
    const provider = quietlySync(() => new Provider(issuer, configuration));
    const serverErrors: Error[] = [];
    // Koa would print every error; the test reads serverErrors instead.
    provider.silent = true;
    provider.on('server_error', (_ctx, err) => serverErrors.push(err));
    provider.use(stripRemoteFonts);
    server.on('request', provider.callback());
    return {
      issuer,
      serverErrors,
      close: () => closeServer(server),
    };
  } catch (err) {
    await closeServer(server);
    throw err;
  }
}

async function buildConfiguration(o: { clients: TestClient[]; accounts: TestAccount[] }, policyModule: OidcModule['interactionPolicy']): Promise<object> {
  const accounts = new Map(o.accounts.map((a) => [a.sub, a]));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `test-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };

  // The dev login form accepts any string and stores it as the session's account id. Without this check an
  // unknown id would reach consent with no account and end in server_error; with it, login is asked again.
  const interactions = { policy: policyModule.base() };
  interactions.policy.get('login').checks.add(new policyModule.Check(
    'unknown_account',
    'the signed-in login is not a configured test account',
    (ctx) => ctx.oidc.session.accountId !== undefined && ctx.oidc.account === undefined,
  ));

  return {
    clients: o.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    })),
    jwks: { keys: [jwk] },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, name: account.name, picture: account.picture, email: account.email, email_verified: account.email === undefined ? undefined : true }),
      };
    },
    claims: { openid: ['sub'], profile: ['name', 'picture'], email: ['email', 'email_verified'] },
    scopes: SCOPES,
    responseTypes: ['code'],
    // The default keeps profile claims out of the ID token when an access token is issued; the app reads
    // them from the ID token, so put them there (the userinfo endpoint still serves them too).
    conformIdTokenClaims: false,
    // Confidential clients may or may not send PKCE; the app under test decides.
    pkce: { required: () => false },
    features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
    interactions,
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // Explicit values, so the library does not print "you SHOULD change" notices on each use.
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    clientBasedCORS: () => false,
    renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>${escapeHtml(out.error ?? 'error')}</title><h1>${escapeHtml(out.error ?? 'error')}</h1><p>${escapeHtml(out.error_description ?? '')}</p>`;
    },
  };
}

// The dev interaction pages @import Roboto from fonts.googleapis.com; tests must not leave loopback.
async function stripRemoteFonts(ctx: KoaCtx, next: () => Promise<void>): Promise<void> {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/@import url\(https?:[^)]*\);?/g, '');
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// oidc-provider prints warnings at import (Node 20 is "unsupported"; it runs fine) and at construction
// (in-memory adapter, dev interactions). They are expected here, so drop exactly those lines.
const isOidcNotice = (args: unknown[]) => typeof args[0] === 'string' && args[0].startsWith('oidc-provider ');

function muteNotices(): () => void {
  const { warn, info } = console;
  console.warn = (...args: unknown[]) => { if (!isOidcNotice(args)) warn(...args); };
  console.info = (...args: unknown[]) => { if (!isOidcNotice(args)) info(...args); };
  return () => {
    console.warn = warn;
    console.info = info;
  };
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const restore = muteNotices();
  try {
    return await fn();
  } finally {
    restore();
  }
}

function quietlySync<T>(fn: () => T): T {
  const restore = muteNotices();
  try {
    return fn();
  } finally {
    restore();
  }
}

function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((err) => (err ? reject(err) : resolve()));
    // The browser keeps connections alive; without this close() would wait for them to time out.
    server.closeAllConnections();
  });
}
