import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import createSession from 'koa-session';
import type { SessionRepo } from '../store/sessions.js';
import { preLoginToken } from './pre-login-csrf.js';

/** What a session holds. The cookie holds only its signed id; this lives in SQLite. */
export interface WebSession {
  /** Who logged in (`github:583231`); unset before login. */
  identity?: string;
  /** The name the provider gave at login: shown on the 403 page to someone not on the list (who has no row). */
  name?: string | null;
  /** The token every form POST must echo once logged in (CSRF); before login it is the pre-login cookie's. */
  csrf?: string;
  /** An invitation opened before logging in, redeemed by the login that follows. */
  invite?: string;
  /** grant's own state during an OAuth round trip (state and nonce), removed when it ends. */
  grant?: { provider?: string; state?: string; nonce?: string };
  /** koa-session's per-session lifetime (ms): short before login, `web.sessionMaxAge` after. */
  maxAge: number;
}

/** Before login a session exists only for an OAuth round trip or an invitation: its row lasts an hour. */
export const ANONYMOUS_MAX_AGE = 60 * 60_000;

export const SESSION_COOKIE = 'ood.sid';

export function sessionOf(ctx: Koa.Context): WebSession {
  return (ctx as unknown as { session: WebSession }).session;
}

/** Ends the session: the row is deleted and the cookie cleared. */
export function endSession(ctx: Koa.Context): void {
  (ctx as unknown as { session: WebSession | null }).session = null;
}

/** The CSRF token forms carry: the session's once logged in (made on first use), before that the pre-login cookie's. */
export function csrfToken(ctx: Koa.Context): string {
  const session = sessionOf(ctx);
  if (!session?.identity) return preLoginToken(ctx, { mint: true })!;
  session.csrf ??= randomBytes(18).toString('base64url');
  return session.csrf;
}

/**
 * koa-session over OoD's SQLite, cookies signed with the session keys, SameSite=Lax, HttpOnly, and
 * Secure when the request came over HTTPS (koa-session's default; behind a proxy that ends TLS, Koa
 * knows it only with `web.trustProxy`).
 */
export function sessions(app: Koa, repo: SessionRepo, options: { maxAge: number; clock: () => number }): Koa.Middleware {
  return createSession(
    {
      key: SESSION_COOKIE,
      maxAge: options.maxAge,
      httpOnly: true,
      signed: true,
      sameSite: 'lax',
      rolling: false,
      renew: true,
      store: {
        get: async (id: string) => repo.get(id, options.clock()),
        set: async (id: string, data: Record<string, unknown>, maxAge: number) => {
          const now = options.clock();
          // Whatever koa-session's lifetime, a row with no login in it lasts at most an hour.
          repo.set(id, data, now + (typeof data.identity === 'string' ? maxAge : Math.min(maxAge, ANONYMOUS_MAX_AGE)));
        },
        destroy: async (id: string) => repo.destroy(id),
      },
    },
    app,
  ) as Koa.Middleware;
}
