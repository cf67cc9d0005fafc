import type { Store } from '../../store/store.js';

/** Who a one-time login link logs in as: the admin sitting at the machine OoD runs on. */
export const LOCAL_ADMIN = 'local:admin';

/** How long a one-time login link works. */
export const LOGIN_LINK_TTL_MS = 10 * 60_000;

/**
 * A one-time login link for `local:admin` (made an admin if it is not): printed by `ood serve` when
 * nobody could log in as an admin otherwise, and made again by `ood login-link`. Only the token's hash
 * is stored; the link itself is shown once.
 */
export function localAdminLink(store: Store, origin: string, by: string, now: number): { link: string; expiresAt: number } {
  store.people.ensureAdmins([LOCAL_ADMIN], now);
  if (!store.people.get(LOCAL_ADMIN)!.name) store.people.loggedIn(LOCAL_ADMIN, { name: 'Admin on this machine', avatar: null }, now);
  const token = store.tokens.create('login', LOCAL_ADMIN, by, now, LOGIN_LINK_TTL_MS);
  return { link: `${origin}/login/once?token=${token}`, expiresAt: now + LOGIN_LINK_TTL_MS };
}
