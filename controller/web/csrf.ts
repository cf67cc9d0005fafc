import { timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { HttpError } from '../api/http-error.js';
import { sessionOf } from './session.js';

/**
 * The synchronizer-token check for every POST made with a session cookie: the form field `_csrf`, or
 * the `X-CSRF-Token` header for the page's script, must equal the session's token. SameSite=Lax
 * cookies already stop most cross-site POSTs; this stops the rest (same-site subdomains, old browsers).
 */
export function checkCsrf(ctx: Koa.Context): void {
  const expected = sessionOf(ctx).csrf;
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
