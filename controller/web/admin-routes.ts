import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type Koa from 'koa';
import { HttpError } from '../api/http-error.js';
import { identity as identitySchema } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { adminAudit } from '../store/audit-retention.js';
import { LastAdminError, NameTakenError, PERMISSIONS, type Permission } from '../store/people.js';
import type { Store } from '../store/store.js';
import { checkCsrf } from './csrf.js';
import { PLAYER_NAME } from './heads.js';
import { adminBody, NO_PROVIDER_WARNING } from './pages/admin.js';
import { layout } from './pages/layout.js';
import { LOCAL_ADMIN } from './auth/local-admin.js';
import { sessionOf } from './session.js';
import { pageContext, requirePerson } from './viewer.js';

export interface AdminDeps {
  store: Store;
  origin: string;
  clock: () => number;
  /** The login providers' labels: with none, an invite link has no way in (the page says so). */
  providers: readonly string[];
}

const INVITE_TTLS = new Set(['1h', '1d', '7d']);

/** A one-time login link's person: `local:<name>`, the name as typed (shown in the header). */
const LOCAL_NAME = /^[A-Za-z0-9_.-]{1,32}$/;

function ttlOf(body: Record<string, unknown>): string {
  const ttl = field(body, 'ttl');
  if (!INVITE_TTLS.has(ttl)) throw new HttpError(400, `A link is valid for ${[...INVITE_TTLS].join(', ')}, not "${ttl}".`);
  return ttl;
}

/** What the page shows once after a change, kept in the session for that one view. */
interface AdminNotices {
  notice?: string;
  newInvite?: string;
  newLoginLink?: { link: string; name: string };
}

function permissionsOf(body: Record<string, unknown>): Permission[] {
  const given = body.permissions === undefined ? [] : Array.isArray(body.permissions) ? body.permissions : [body.permissions];
  const unknown = given.filter((p) => !(PERMISSIONS as readonly unknown[]).includes(p));
  if (unknown.length > 0) throw new HttpError(400, `Unknown permission ${unknown.map(String).join(', ')}; the permissions are ${PERMISSIONS.join(', ')}.`);
  return given as Permission[];
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw new HttpError(400, `The form has no field "${name}".`);
  return value.trim();
}

/** Runs a change to the list; one that would leave no admin is a 409 that says what to do. */
function lastAdminIs409<T>(change: () => T): T {
  try {
    return change();
  } catch (err) {
    if (err instanceof LastAdminError) throw new HttpError(409, `${err.identity} is the last admin; make someone else an admin first.`);
    throw err;
  }
}

/** The admin page: people and their permissions, invite links, Minecraft names, the audit log. */
export function adminRoutes(d: AdminDeps): Router {
  const router = new Router({ prefix: '/admin' });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const who = (ctx: Koa.Context) => ({ actor: requirePerson(ctx, d.store, 'admin').identity, source: ctx.ip || 'unknown' });
  const audit = (ctx: Koa.Context, action: string, detail: string) => {
    const { actor, source } = who(ctx);
    d.store.audit.add({ at: d.clock(), actor, source, action, server: null, detail });
  };
  // After a change, back to the page with a notice (kept in the session for one view, not in the URL).
  const back = (ctx: Koa.Context, notice: string, made?: { invite?: string; loginLink?: { link: string; name: string } }) => {
    const session = sessionOf(ctx) as AdminNotices;
    session.notice = notice;
    if (made?.invite) session.newInvite = made.invite;
    if (made?.loginLink) session.newLoginLink = made.loginLink;
    ctx.status = 303;
    ctx.redirect('/admin');
  };
  const wantsJson = (ctx: Koa.Context) => ctx.accepts('html', 'json') === 'json';

  router.use(async (ctx, next) => {
    requirePerson(ctx, d.store, 'admin');
    if (ctx.method === 'POST') {
      await form(ctx, async () => undefined);
      checkCsrf(ctx);
    }
    await next();
  });

  router.get('/', (ctx) => {
    const session = sessionOf(ctx) as AdminNotices;
    const { notice, newInvite, newLoginLink } = session;
    delete session.notice;
    delete session.newInvite;
    delete session.newLoginLink;
    const now = d.clock();
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = layout(
      pageContext(ctx, d.store),
      'People',
      adminBody(pageContext(ctx, d.store), { people: d.store.people.list(), invites: d.store.tokens.pending('invite', now), audit: adminAudit(d.store.db, now), newInvite, newLoginLink, notice, now, providers: d.providers }),
    ).text;
  });

  router.post('/people', (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const parsed = identitySchema.safeParse(field(body, 'identity'));
    if (!parsed.success) throw new HttpError(400, `"${field(body, 'identity')}" is not an identity: ${parsed.error.issues[0]!.message}.`);
    const permissions = permissionsOf(body);
    const actor = who(ctx).actor;
    // As with removing yourself: another admin must do it, so someone who can manage people always remains.
    if (parsed.data === actor && !permissions.includes('admin')) throw new HttpError(409, 'You cannot take admin away from yourself; ask another admin.');
    lastAdminIs409(() => d.store.people.put(parsed.data, permissions, actor, d.clock()));
    audit(ctx, 'person added', `${parsed.data}: ${permissions.join(',') || 'nothing'}`);
    back(ctx, `${parsed.data} may now ${permissions.join(', ') || 'only look'}.`);
  });

  router.post('/people/remove', (ctx) => {
    const identity = field(ctx.request.body as Record<string, unknown>, 'identity');
    if (identity === who(ctx).actor) throw new HttpError(409, 'You cannot remove yourself; ask another admin.');
    const removed = lastAdminIs409(() => d.store.db.transaction(() => {
      const gone = d.store.people.remove(identity);
      // Their open sessions end with them: a removed person is out now, not at their next login.
      if (gone) d.store.sessions.endAllOf(identity);
      return gone;
    })());
    if (!removed) throw new HttpError(404, `${identity} is not on the list.`);
    audit(ctx, 'person removed', identity);
    back(ctx, `${identity} was removed and logged out.`);
  });

  router.post('/people/minecraft', (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const identity = field(body, 'identity');
    const name = field(body, 'minecraftName');
    if (name !== '' && !PLAYER_NAME.test(name)) throw new HttpError(400, `"${name}" is not a Minecraft name (1 to 16 letters, digits and underscores).`);
    if (!d.store.people.get(identity)) throw new HttpError(404, `${identity} is not on the list.`);
    try {
      d.store.people.linkMinecraft(identity, name || null);
    } catch (err) {
      if (err instanceof NameTakenError) throw new HttpError(409, err.message);
      throw err;
    }
    audit(ctx, 'minecraft name', `${identity}: ${name || '(none)'}`);
    back(ctx, name ? `${identity} plays as ${name}.` : `${identity} has no Minecraft name now.`);
  });

  router.post('/invites', (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const ttl = ttlOf(body);
    const permissions = permissionsOf(body);
    const now = d.clock();
    const token = d.store.tokens.create('invite', permissions.join(','), who(ctx).actor, now, parseDuration(ttl)!);
    audit(ctx, 'invite made', `${permissions.join(',') || 'nothing'}, valid ${ttl}`);
    const link = `${d.origin}/invite?token=${token}`;
    const warning = d.providers.length === 0 ? NO_PROVIDER_WARNING : undefined;
    if (wantsJson(ctx)) {
      ctx.status = 201;
      ctx.body = { link, expiresAt: new Date(now + parseDuration(ttl)!).toISOString(), ...(warning ? { warning } : {}) };
      return;
    }
    back(ctx, warning ? 'Invite link made, but see the warning: nobody can log in through it yet.' : 'Invite link made.', { invite: link });
  });

  // The way in without a provider: the person is added as local:<name> and gets a link that logs them in once.
  router.post('/login-links', (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const name = field(body, 'name');
    if (!LOCAL_NAME.test(name)) throw new HttpError(400, `"${name}" cannot be a name here: use 1 to 32 letters, digits, dots, dashes or underscores.`);
    const ttl = ttlOf(body);
    const permissions = permissionsOf(body);
    const identity = `local:${name}`;
    // local:admin is the machine's admin; Alex and alex would be two people who look alike.
    const clash = d.store.people.list().find((p) => p.identity.toLowerCase() === identity.toLowerCase() && p.identity !== identity);
    if (identity.toLowerCase() === LOCAL_ADMIN || clash) throw new HttpError(409, `${clash?.identity ?? LOCAL_ADMIN} is already on the list; pick another name.`);
    const now = d.clock();
    const actor = who(ctx).actor;
    // This writes the person's permissions as /people does, so the same guard: not one's own admin.
    if (identity === actor && !permissions.includes('admin')) throw new HttpError(409, 'You cannot take admin away from yourself; ask another admin.');
    lastAdminIs409(() => d.store.people.put(identity, permissions, actor, now));
    const token = d.store.tokens.create('login', identity, actor, now, parseDuration(ttl)!);
    audit(ctx, 'login link made', `${identity}: ${permissions.join(',') || 'nothing'}, valid ${ttl}`);
    const link = `${d.origin}/login/once?token=${token}`;
    if (wantsJson(ctx)) {
      ctx.status = 201;
      ctx.body = { link, identity, expiresAt: new Date(now + parseDuration(ttl)!).toISOString() };
      return;
    }
    back(ctx, `${identity} may now ${permissions.join(', ') || 'only look'}; send them the link.`, { loginLink: { link, name } });
  });

  router.post('/invites/revoke', (ctx) => {
    const hash = field(ctx.request.body as Record<string, unknown>, 'hash');
    if (!d.store.tokens.revoke(hash, d.clock(), who(ctx).actor)) throw new HttpError(404, 'That invite is not open (used, withdrawn or expired).');
    audit(ctx, 'invite withdrawn', hash.slice(0, 8));
    back(ctx, 'Invite withdrawn.');
  });

  return router;
}
