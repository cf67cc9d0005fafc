import { randomBytes } from 'node:crypto';
import type Koa from 'koa';

export const PRE_LOGIN_COOKIE = 'ood.csrf';

/**
 * The CSRF token of someone not logged in, kept in its own cookie and signed with the session keys
 * (Koa's signed cookies, an HMAC): it costs no session row, so an anonymous page view writes nothing
 * (DESIGN 10), and a value the site did not sign is not accepted. The form echoes the value; a
 * cross-site page can neither read the cookie nor make a signature for one of its own. After login
 * the session's own token is used instead.
 *
 * With `mint`, a browser without a valid one gets a new one (once per request).
 */
export function preLoginToken(ctx: Koa.Context, o: { mint: boolean }): string | undefined {
  const minted = ctx.state.preLoginCsrf as string | undefined;
  if (minted) return minted;
  const given = ctx.cookies.get(PRE_LOGIN_COOKIE, { signed: true });
  if (given && /^[\w-]{24}$/.test(given)) return given;
  if (!o.mint) return undefined;
  const token = randomBytes(18).toString('base64url');
  // A browser-session cookie, like the form it protects; Secure on https (behind a proxy: with web.trustProxy).
  ctx.cookies.set(PRE_LOGIN_COOKIE, token, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
  ctx.state.preLoginCsrf = token;
  return token;
}
