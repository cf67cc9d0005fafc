import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type Koa from 'koa';
import { HttpError } from '../../api/http-error.js';
import type { Config } from '../../config/schema.js';
import { messageOf } from '../../errors.js';
import type { Logger } from '../../log.js';
import { PERMISSIONS, type Permission } from '../../store/people.js';
import { LOGIN_REFUSED } from '../../store/audit-retention.js';
import type { Store } from '../../store/store.js';
import { checkCsrf } from '../csrf.js';
import { inviteBody, loginBody, oneTimeBody, type LoginChoice } from '../pages/login.js';
import { layout } from '../pages/layout.js';
import { clientAddressKey, rateLimit } from '../rate-limit.js';
import { ANONYMOUS_MAX_AGE, endSession, sessionOf } from '../session.js';
import { pageContext, personOf } from '../viewer.js';
import { oauth2Identity, oidcIdentity, type LoginIdentity } from './identity.js';
import { LoginError, OidcIssuer } from './oidc.js';
import { grantConfig, grantKey, type LoginProvider } from './providers.js';

export interface LoginDeps {
  store: Store;
  web: Config['web'];
  providers: readonly LoginProvider[];
  /** The address people open: the origin of OAuth redirect URIs. */
  origin: string;
  log: Logger;
  clock: () => number;
}

/** How many logins may be in progress at once (session rows with nobody logged in yet, an hour each). */
export const LOGINS_IN_PROGRESS = 5_000;

const REFUSALS = {
  unknown: [404, 'This link is not known here. Ask for a new one.'],
  used: [410, 'This link was already used; each works once. Ask for a new one.'],
  expired: [410, 'This link has expired. Ask for a new one.'],
} as const;

/** Logging in and out: the providers' OAuth round trips (through grant), one-time links, invitations. */
export function loginRoutes(d: LoginDeps): Router {
  const router = new Router();
  const byKey = new Map(d.providers.map((p) => [grantKey(p), p]));
  const issuers = new Map(d.providers.filter((p) => p.kind === 'oidc').map((p) => [p.name, new OidcIssuer(p.issuer, p.clientId, d.clock)]));
  const choices: LoginChoice[] = d.providers.map((p) => ({ name: p.name, label: p.label, href: `/connect/${grantKey(p)}` }));
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const page = (ctx: Koa.Context, title: string, body: Parameters<typeof layout>[2]) => {
    ctx.type = 'html';
    ctx.body = layout(pageContext(ctx, d.store), title, body).text;
  };
  const loginLimit = rateLimit({ name: 'login', max: 30, durationMs: 5 * 60_000, key: clientAddressKey, message: 'Too many login attempts from your address; wait a few minutes and try again.' });
  // The pages anyone may open without logging in: plenty for people, and a flood from one address is cut short.
  const pageLimit = rateLimit({ name: 'login-pages', max: 60, durationMs: 60_000, key: clientAddressKey, message: 'Too many page views from your address; wait a minute and try again.' });

  router.get('/login', pageLimit, (ctx) => {
    if (personOf(ctx, d.store)) return ctx.redirect('/');
    const notice = ctx.query.bye !== undefined ? 'You are logged out.' : undefined;
    page(ctx, 'Log in', loginBody(choices, notice));
  });

  // The OAuth round trip. Before grant: the rate limit, the OpenID endpoints from discovery, and a
  // state check of OoD's own, because grant skips its check when the session holds no state (a
  // callback replayed after the login finished, or forged in a fresh browser). After grant, on the
  // callback: the identity, from the profile or the verified ID token.
  // grant is loaded at the first login through a provider, so an OoD without one never pays for it.
  // It is CommonJS whose types declare `export default`: its default is under `.default` for TypeScript (and at run time, too).
  let grantKoa: Koa.Middleware | undefined;
  const grantMiddleware: Koa.Middleware = async (ctx, next) => {
    grantKoa ??= (await import('grant')).default.default.koa()(grantConfig(d.providers, d.origin) as never) as unknown as Koa.Middleware;
    return grantKoa(ctx, next);
  };
  router.all(
    '/connect/:key{/:override}',
    loginLimit,
    async (ctx, next) => {
      const provider = byKey.get(ctx.params.key!);
      if (!provider) throw new HttpError(404, `no login provider "${ctx.params.key}"`);
      const session = sessionOf(ctx);
      if (ctx.params.override === 'callback') {
        // grant takes the provider from the session, not the URL: a callback at another provider's
        // address would send the started provider's client secret to that provider's token endpoint.
        // Refused before grant runs, and the pending login stays, so its own callback still works.
        const startedWith = session.grant?.provider;
        if (startedWith !== undefined && startedWith !== ctx.params.key) {
          d.log.warn({ provider: provider.name, startedWith, ip: ctx.ip }, 'Refused a login callback at a provider other than the one this login started with');
          throw new HttpError(400, `This login was started with ${byKey.get(startedWith)?.label ?? startedWith}, but came back to ${provider.label}: it may be forged. Start again from the login page.`);
        }
        const started = session.grant?.state;
        if (!started || ctx.query.state !== started) {
          delete session.grant;
          d.log.warn({ provider: provider.name, ip: ctx.ip }, 'Refused a login callback whose state this browser did not start');
          throw new HttpError(400, 'This login does not match one this browser started (its state is missing or different): it may be forged, replayed or too old. Start again from the login page.');
        }
      } else if (ctx.params.override !== undefined) {
        throw new HttpError(404, `no route ${ctx.path}`);
      } else {
        // Each start writes a session row (grant's state). However many addresses a flood comes from,
        // the rows of logins in progress stay below a cap, so the table (and the sweep) keep up.
        if (d.store.sessions.anonymous(d.clock(), LOGINS_IN_PROGRESS + 1) > LOGINS_IN_PROGRESS) {
          d.log.warn({ cap: LOGINS_IN_PROGRESS }, 'Refused a login start: too many logins in progress');
          throw Object.assign(new HttpError(503, 'There are too many logins in progress, try again in a minute.'), { headers: { 'Retry-After': '60' } });
        }
        // grant would take a query on a login link as overrides of the provider's settings (with the
        // OpenID endpoints given below, it fails on them instead). None are wanted: an access_url in a
        // link would send the code and the client secret elsewhere. A tracking parameter just goes.
        ctx.querystring = '';
      }
      if (provider.kind === 'oidc') {
        const found = await issuers.get(provider.name)!.discovery().catch((err: unknown) => {
          throw new HttpError(502, `Could not reach the login provider ${provider.label}: ${messageOf(err)}`);
        });
        ctx.state.grant = { dynamic: { authorize_url: found.authorization_endpoint, access_url: found.token_endpoint } };
      }
      await next();
    },
    grantMiddleware,
    async (ctx) => {
      const provider = byKey.get(ctx.params.key!)!;
      const session = sessionOf(ctx);
      const nonce = session.grant?.nonce;
      // The round trip is over, whatever its outcome: its state and nonce must not work again.
      delete session.grant;
      const response = (ctx.state.grant as { response?: Record<string, unknown> } | undefined)?.response;
      if (!response) throw new HttpError(400, 'No login is in progress in this browser. Start again from the login page.');
      await finishLogin(ctx, d, await identify(provider, response, nonce), provider.label);
    },
  );

  const identify = async (provider: LoginProvider, response: Record<string, unknown>, nonce: string | undefined): Promise<LoginIdentity> => {
    if (response.error !== undefined) {
      const reason = typeof response.error === 'string' ? response.error : JSON.stringify(response.error).slice(0, 200);
      d.log.warn({ provider: provider.name, reason }, 'A login failed at the provider');
      throw new HttpError(400, `Logging in with ${provider.label} did not work: ${reason}`);
    }
    try {
      if (provider.kind === 'oauth2') return oauth2Identity(provider.name, response.profile);
      if (typeof response.id_token !== 'string') throw new LoginError(`${provider.label} sent no ID token`);
      if (!nonce) throw new LoginError('This login sent no nonce, so its ID token cannot be checked');
      return oidcIdentity(provider.name, await issuers.get(provider.name)!.verify(response.id_token, nonce));
    } catch (err) {
      if (!(err instanceof LoginError)) throw err;
      d.log.warn({ provider: provider.name, err: err.message }, 'A login could not be checked');
      throw new HttpError(400, `Logging in with ${provider.label} did not work: ${err.message}`);
    }
  };

  router.get('/login/once', pageLimit, (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const found = d.store.tokens.peek('login', token, d.clock());
    if ('refused' in found) throw new HttpError(REFUSALS[found.refused][0], REFUSALS[found.refused][1]);
    page(ctx, 'Log in', oneTimeBody(pageContext(ctx, d.store), token, { identity: found.payload, name: d.store.people.get(found.payload)?.name ?? null }));
  });
  router.post('/login/once', loginLimit, form, async (ctx) => {
    checkCsrf(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : '';
    const used = d.store.tokens.use('login', token, ctx.ip || 'unknown', d.clock());
    if ('refused' in used) throw new HttpError(REFUSALS[used.refused][0], REFUSALS[used.refused][1]);
    const person = d.store.people.get(used.payload);
    // Someone an admin made a link for (local:<name>) is called by that name until they have another.
    const name = person?.name ?? (used.payload.startsWith('local:') ? used.payload.slice('local:'.length) : null);
    await finishLogin(ctx, d, { identity: used.payload, name, avatar: null }, 'a one-time link');
  });

  router.get('/invite', pageLimit, async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const found = d.store.tokens.peek('invite', token, d.clock());
    if ('refused' in found) throw new HttpError(REFUSALS[found.refused][0], REFUSALS[found.refused][1]);
    const session = sessionOf(ctx);
    if (session.identity && !d.store.people.get(session.identity)) {
      // Logged in already, and not on the list yet: the invite applies at once.
      await redeemInvite(ctx, d, session.identity, token);
      // On the list now: the session gets a listed person's lifetime.
      session.maxAge = d.web.sessionMaxAge;
      return ctx.redirect('/');
    }
    if (session.identity) return ctx.redirect('/');
    session.invite = token;
    page(ctx, 'Invitation', inviteBody(choices, permissionWords(found.payload), d.store.people.admins().map((a) => a.name ?? a.identity)));
  });

  router.post('/logout', form, async (ctx) => {
    checkCsrf(ctx);
    const identity = sessionOf(ctx).identity;
    if (identity) d.store.audit.add({ at: d.clock(), actor: identity, source: ctx.ip || 'unknown', action: 'logout', server: null, detail: null });
    endSession(ctx);
    ctx.redirect('/login?bye');
  });

  return router;
}

const permissionWords = (payload: string) => {
  const list = payload.split(',').filter(Boolean);
  if (list.includes('admin')) return 'do everything, and manage people';
  // "console servers" says nothing: the console is named for what it gives.
  const actions = list.filter((p) => p !== 'console');
  const servers = actions.length ? `${actions.join(' and ')} servers` : 'see the servers';
  return list.includes('console') ? `${servers}, and use their consoles (the game's log and commands)` : servers;
};

/** Parses an invite's stored permissions. */
export function parsePermissions(payload: string): Permission[] {
  return payload.split(',').filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p));
}

async function redeemInvite(ctx: Koa.Context, d: LoginDeps, identity: string, token: string): Promise<string | undefined> {
  const now = d.clock();
  const used = d.store.tokens.use('invite', token, identity, now);
  if ('refused' in used) return REFUSALS[used.refused][1];
  d.store.db.transaction(() => {
    d.store.people.put(identity, parsePermissions(used.payload), 'invite', now);
    d.store.audit.add({ at: now, actor: identity, source: ctx.ip || 'unknown', action: 'joined by invite', server: null, detail: used.payload || null });
  })();
  return undefined;
}

/**
 * The end of every login: an invitation opened before is redeemed (only by someone not on the list
 * yet), the person's name and avatar are refreshed, and the session gets a new id (so an id planted
 * before login is worth nothing after) and the long lifetime.
 */
async function finishLogin(ctx: Koa.Context, d: LoginDeps, who: LoginIdentity, via: string): Promise<void> {
  const session = sessionOf(ctx);
  const invite = session.invite;
  delete session.invite;
  if (invite && !d.store.people.get(who.identity)) await redeemInvite(ctx, d, who.identity, invite);
  const now = d.clock();
  d.store.people.loggedIn(who.identity, { name: who.name, avatar: who.avatar }, now);
  // Someone on nobody's list gets only the 403 page: their session lasts an anonymous one's hour, and
  // their row is a refused login (kept a week, out of the admin's view and of the lobby's wakeFrom).
  const listed = d.store.people.get(who.identity) !== undefined;
  d.store.audit.add({ at: now, actor: who.identity, source: ctx.ip || 'unknown', action: listed ? 'login' : LOGIN_REFUSED, server: null, detail: `with ${via}` });
  session.identity = who.identity;
  session.name = who.name;
  session.maxAge = listed ? d.web.sessionMaxAge : ANONYMOUS_MAX_AGE;
  // A new CSRF token too: one known before login (a planted session) must not work after it.
  delete session.csrf;
  ctx.state.person = undefined;
  await (session as unknown as { regenerate(): Promise<void> }).regenerate();
  d.log.info({ identity: who.identity, via }, 'Logged in');
  ctx.redirect('/');
}
