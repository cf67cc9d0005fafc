import type Koa from 'koa';
import { HttpError } from '../api/http-error.js';
import type { Store } from '../store/store.js';
import { may, type Permission, type Person } from '../store/people.js';
import { csrfToken, sessionOf } from './session.js';
import type { PageContext } from './pages/layout.js';

/** Logged in, but not on the list: the 403 page says who they are and whom to ask. */
export class NotListedError extends HttpError {
  constructor(readonly identity: string) {
    super(403, `${identity} is not on this OoD's list of people`);
  }
}

/** Not logged in: a page redirects to the login page, a script or a POST gets a 401. */
export class NotLoggedInError extends HttpError {
  constructor() {
    super(401, 'You are not logged in (or your login has expired). Log in and try again.');
  }
}

/** The person this request comes from, when logged in and on the list; undefined otherwise. */
export function personOf(ctx: Koa.Context, store: Store): Person | undefined {
  if (ctx.state.person !== undefined) return ctx.state.person as Person | undefined;
  const identity = sessionOf(ctx)?.identity;
  const person = identity ? store.people.get(identity) : undefined;
  ctx.state.person = person;
  return person;
}

/** The person, or the right error: not logged in, not on the list, or without `permission`. */
export function requirePerson(ctx: Koa.Context, store: Store, permission?: Permission): Person {
  const person = personOf(ctx, store);
  if (!person) {
    const identity = sessionOf(ctx)?.identity;
    throw identity ? new NotListedError(identity) : new NotLoggedInError();
  }
  if (permission && !may(person, permission)) {
    throw new HttpError(403, `You may not ${permission === 'admin' ? 'manage people' : permission === 'console' ? "use servers' consoles" : `${permission} servers`}; ask an admin to give you "${permission}".`);
  }
  return person;
}

export function pageContext(ctx: Koa.Context, store: Store): PageContext {
  return { person: personOf(ctx, store), csrf: csrfToken(ctx) };
}
