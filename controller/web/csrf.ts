import { timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { HttpError } from '../api/http-error.js';
import { preLoginToken } from './pre-login-csrf.js';
import { sessionOf } from './session.js';

/**
 * The synchronizer-token check for every form POST: the form field `_csrf`, or the `X-CSRF-Token`
 * header for the page's script, must equal the session's token (logged in) or the signed pre-login
 * cookie's (not logged in). SameSite=Lax cookies already stop most cross-site POSTs; this stops the
 * rest (same-site subdomains, old browsers).
 */
export function checkCsrf(ctx: Koa.Context): void {
  const session = sessionOf(ctx);
  const expected = session?.identity ? session.csrf : preLoginToken(ctx, { mint: false });
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const given = ctx.get('x-csrf-token') || (typeof body?._csrf === 'string' ? body._csrf : '');
  if (!expected || !given || !same(given, expected)) {
    throw new HttpError(403, 'This form is stale or did not come from this site (its CSRF token does not match your session). Reload the page and try again.');
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
