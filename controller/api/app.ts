import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ConfigReload, Controller, Request } from '../controller.js';
import { ConfigError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { asDiskError } from '../store/disk-errors.js';
import { HttpError } from './http-error.js';
import { costJson } from './cost-json.js';
import { journalJson } from './journal-json.js';
import { timelineJson } from './session-json.js';
import { checkCsrf } from '../web/csrf.js';
import { errorBody, notListedBody } from '../web/pages/errors.js';
import { layout, type PageContext } from '../web/pages/layout.js';
import { NotListedError, NotLoggedInError, pageContext, personOf, requirePerson } from '../web/viewer.js';
import { createWeb, type Web, type WebOptions } from '../web/web.js';
import { sessionOf } from '../web/session.js';
import { localAdminLink } from '../web/auth/local-admin.js';
import { serverJson, type ServerJson } from './server-json.js';
import { SnapshotAdoptError } from '../drivers/digitalocean/droplet-stop.js';
import { worldsRoutes } from './worlds-routes.js';
import { addDownloadRoutes } from './download-routes.js';
import { addUploadRoutes } from './upload-routes.js';
import { discordRoutes } from '../discord/routes.js';
import { consoleRoutes } from './console-routes.js';

const requestBody = z
  .strictObject({
    reason: z.string().max(200).optional(),
    /** A start past the month's budget, by an admin (the bearer token is one). */
    override: z.boolean().optional(),
  })
  .optional();

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * API reads a session may make only with the `console` permission: a server's log, and anything under
 * its console. Without `$` and case-blind, as the router matches (`/logs/`, `/LOGS` reach the same route).
 */
const CONSOLE_READS = /^\/api\/servers\/[^/]+\/(logs|console)(\/|$)/i;

/** Paths whose errors are JSON whatever the client accepts: the API's, and the health check's. */
const JSON_PATHS = /^\/(api\/|discord\/|healthz$)/;

/**
 * The HTTP app: the bearer-token (or session) API and the web pages, on one port. Handlers change
 * what is wanted and read status; they never call drivers themselves.
 */
export function createApp(
  controller: Controller,
  options: { adminToken: string; log: Logger; web: Omit<WebOptions, 'log'>; /** `ood config reload`; absent, the route answers 501. */ reloadConfig?: (who: Request) => ConfigReload },
): { app: Koa; web: Web } {
  // Only the last `trustProxy` entries of X-Forwarded-For are the proxies' own; the rest the client wrote.
  const hops = controller.config.web.trustProxy;
  const app = new Koa({ proxy: hops > 0, maxIpsCount: hops });
  const log = options.log.child({ component: 'api' });
  const store = controller.store;
  // Koa reports errors after a response began (a live page closed mid-stream) with console.error: here
  // they go to the log instead, and a closed event stream is no error at all.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
    log.error({ err: messageOf(err) }, 'A response failed after it began');
  });

  const dataPaths = { database: controller.store.db.name, dataDir: controller.config.dataDir };

  // First: every error becomes JSON `{ "error": … }`; only HttpErrors (and body-parser 4xx) say why.
  // A data disk that takes no more writes is not a bug: the client and the log are told so, as a 503.
  app.use(async (ctx, next) => {
    try {
      await next();
      // The router answers these with a bare status (and an Allow header): give them the JSON shape too.
      if (ctx.body === undefined && ctx.status === 404) throw new HttpError(404, `no route ${ctx.method} ${ctx.path}`);
      if (ctx.body === undefined && ctx.status === 405) throw new HttpError(405, `${ctx.method} is not allowed on ${ctx.path}; it allows ${ctx.response.get('Allow')}`);
      if (ctx.body === undefined && ctx.status === 501) throw new HttpError(501, `the method ${ctx.method} is not implemented`);
    } catch (caught) {
      const disk = asDiskError(caught, dataPaths);
      const err = disk ? new HttpError(503, disk.message) : caught;
      const e = err as { status?: number; expose?: boolean; message?: string };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      const message = err instanceof HttpError || (e.expose && status < 500) ? e.message! : 'internal error; see the controller log';
      const headers = (err as { headers?: Record<string, string> }).headers;
      if (headers?.['Retry-After'] !== undefined) ctx.set('Retry-After', String(headers['Retry-After']));
      if (JSON_PATHS.test(ctx.path) || ctx.accepts('html', 'json') !== 'html') {
        ctx.status = status;
        ctx.body = { error: message };
      } else {
        errorPage(ctx, err, status, message);
      }
      if (status >= 500) {
        log.error({ err: messageOf(caught), code: disk?.code, method: ctx.method, path: ctx.path }, disk ? `Request failed: ${disk.message}` : 'Request failed');
      }
    }
  });

  /** A browser gets a page: the login page when not logged in, the 403 page that says whom to ask, or the error in words. */
  const errorPage = (ctx: Koa.Context, err: unknown, status: number, message: string) => {
    if (err instanceof NotLoggedInError && ctx.method === 'GET') return ctx.redirect('/login');
    let page: PageContext = { person: undefined, csrf: '' };
    try {
      page = pageContext(ctx, store);
    } catch (pageErr) {
      // The session could not be read (a disk error, say): the page goes out without its header.
      log.debug({ err: messageOf(pageErr) }, 'Error page without a session');
    }
    ctx.status = status;
    ctx.type = 'html';
    const body =
      err instanceof NotListedError
        ? notListedBody(page, err.identity, store.people.get(err.identity)?.name ?? sessionOf(ctx)?.name ?? null, store.people.admins().map((a) => a.name ?? a.identity))
        : errorBody(status, message);
    ctx.body = layout(page, status === 403 ? 'Not allowed' : 'Error', body).text;
  };

  // Before the web's sessions and headers: Discord's requests carry a signature, never a cookie.
  const discord = discordRoutes(controller, { log: options.log.child({ component: 'discord' }), origin: options.web.origin });
  app.use(discord.routes()).use(discord.allowedMethods());

  const web = createWeb(app, controller, { ...options.web, log: options.log });
  for (const middleware of web.middleware) app.use(middleware);

  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });

  const api = new Router({ prefix: '/api' });
  api.use(async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!header) {
      // A logged-in page may read the API with its session; changing anything needs its CSRF token and the permission.
      const person = personOf(ctx, store);
      if (!person) throw new HttpError(401, 'missing Authorization: Bearer <OOD_ADMIN_TOKEN> (or a web session)');
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        checkCsrf(ctx);
        const action = /\/(start|stop|keepalive|console)$/.exec(ctx.path)?.[1];
        requirePerson(ctx, store, action === 'stop' ? 'stop' : action === 'console' ? 'console' : action ? 'start' : 'admin');
      } else if (CONSOLE_READS.test(ctx.path)) {
        // The game's log may show what players typed and what admins ran: reading it is the console's.
        requirePerson(ctx, store, 'console');
      }
      ctx.state.actor = person.identity;
      return next();
    }
    if (!match || !sameToken(match[1]!, options.adminToken)) throw new HttpError(401, 'the bearer token is not valid');
    ctx.state.actor = 'admin-token';
    await next();
  });
  api.use(
    bodyParser({
      enableTypes: ['json'],
      encoding: 'utf-8',
      jsonLimit: '16kb',
      // Say what is wrong with the body; the parser's own errors would reach the client as a bare 400.
      onError: (err) => {
        const tooLarge = (err as { status?: number }).status === 413;
        throw tooLarge
          ? new HttpError(413, 'the body is larger than 16 KB')
          : new HttpError(400, `the body is not a JSON object: ${err.message.replace(/^Unexpected token/, 'unexpected token')}; send {} or {"reason": "…"}, or no body`);
      },
    }),
  );
  api.param('id', async (id, ctx, next) => {
    // Named with the servers there are: a typo in `ood start survivl` is then plain to see.
    if (!controller.has(id)) throw new HttpError(404, `no server "${id}"; the servers are: ${controller.config.servers.map((s) => s.id).join(', ')}`);
    await next();
  });

  const who = (ctx: Koa.Context) => ({ actor: String(ctx.state.actor), source: ctx.ip || 'unknown' });
  const parseBody = (ctx: Koa.Context) => {
    const body: unknown = ctx.request.body;
    const empty = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
    const parsed = requestBody.safeParse(empty ? undefined : body);
    if (!parsed.success) throw new HttpError(400, `bad request body: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    return parsed.data ?? {};
  };
  const isAdmin = (ctx: Koa.Context) => ctx.state.actor === 'admin-token' || (personOf(ctx, store)?.permissions.includes('admin') ?? false);

  // The list is polled (pages, scripts, `ood status`) far more often than it changes: while every
  // server's JSON object is the one sent last time, send the same text instead of stringifying again.
  let lastList: { servers: ServerJson[]; text: string } | undefined;
  api.get('/servers', (ctx) => {
    const servers = controller.views().map(serverJson);
    const same = lastList !== undefined && lastList.servers.length === servers.length && servers.every((s, i) => s === lastList!.servers[i]);
    if (!same) lastList = { servers, text: JSON.stringify({ servers }) };
    ctx.type = 'application/json';
    ctx.body = lastList!.text;
  });
  api.get('/servers/:id', (ctx) => {
    ctx.body = serverJson(controller.view(ctx.params.id!));
  });
  for (const [action, desired] of [['start', 'up'], ['stop', 'down']] as const) {
    api.post(`/servers/:id/${action}`, (ctx) => {
      const { override } = parseBody(ctx);
      if (override && !isAdmin(ctx)) throw new HttpError(403, 'only an admin may start a server past the budget');
      ctx.status = 202;
      ctx.body = serverJson(controller.want(ctx.params.id!, desired, { ...who(ctx), ...(override ? { detail: 'past the budget' } : {}) }, { overrideBudget: override === true }));
    });
  }
  api.post('/servers/:id/keepalive', (ctx) => {
    parseBody(ctx);
    const view = controller.view(ctx.params.id!);
    if (view.state.phase !== 'running') throw new HttpError(409, `server "${ctx.params.id}" is ${view.state.phase}, not running; keep-alive applies to a running server`);
    ctx.status = 202;
    ctx.body = serverJson(controller.keepAlive(ctx.params.id!, who(ctx)));
  });
  api.get('/servers/:id/journal', (ctx) => {
    ctx.body = { journal: controller.store.journal.list(ctx.params.id!).map(journalJson) };
  });
  api.get('/servers/:id/history', async (ctx) => {
    // The stack's side comes from the `pulumi` CLI (read once per change, waited on at most 2 s:
    // `stackLoading` says to ask again); the journal is OoD's own, newest last.
    const { stack, loading } = await controller.stackHistory(ctx.params.id!);
    // Sessions first (who, who played, how long, cost, what it left), as the history page tells them.
    const { sessions, since } = timelineJson(controller.store, ctx.params.id!, Date.now());
    ctx.body = { sessions, since, stack, stackLoading: loading, journal: controller.store.journal.list(ctx.params.id!).map(journalJson) };
  });
  // A new one-time login link for the admin at this machine (`ood login-link`): bearer token or an admin's session.
  api.post('/login-link', (ctx) => {
    parseBody(ctx);
    const now = Date.now();
    const made = localAdminLink(store, options.web.origin, String(ctx.state.actor), now);
    store.audit.add({ at: now, actor: String(ctx.state.actor), source: ctx.ip || 'unknown', action: 'login link made', server: null, detail: null });
    ctx.status = 201;
    ctx.body = { link: made.link, expiresAt: new Date(made.expiresAt).toISOString() };
  });
  api.get('/cost', (ctx) => {
    ctx.body = costJson(controller.meter.month(), controller.config);
  });
  api.get('/orphans', (ctx) => {
    const seen = controller.orphans();
    ctx.body = seen === null ? { checkedAt: null, orphans: [] } : { checkedAt: new Date(seen.at).toISOString(), orphans: seen.orphans };
  });
  // `ood snapshots adopt`: a snapshot OoD did not make becomes the server's own only when an admin says so.
  api.post('/servers/:id/snapshots/adopt', async (ctx) => {
    if (!isAdmin(ctx)) throw new HttpError(403, 'only an admin may adopt a snapshot');
    const body = ctx.request.body as { snapshot?: unknown } | undefined;
    const ref = typeof body?.snapshot === 'string' ? body.snapshot.trim() : '';
    if (!/^[\w.:-]{1,255}$/.test(ref)) throw new HttpError(400, 'send {"snapshot": "<name or id>"}');
    try {
      ctx.body = { adopted: await controller.adoptSnapshot(ctx.params.id!, ref, who(ctx)) };
    } catch (err) {
      if (err instanceof SnapshotAdoptError) throw new HttpError(409, err.message);
      throw err;
    }
  });
  // `ood config reload` (SIGHUP takes the same path): the file is read again; what can change live is applied.
  api.post('/config/reload', (ctx) => {
    if (!isAdmin(ctx)) throw new HttpError(403, 'only an admin may reload the config');
    parseBody(ctx);
    if (!options.reloadConfig) throw new HttpError(501, 'this controller was started without a config file to reload');
    try {
      ctx.body = options.reloadConfig(who(ctx));
    } catch (err) {
      if (err instanceof ConfigError) throw new HttpError(400, err.message);
      throw err;
    }
  });
  worldsRoutes(api, controller, { isAdmin, who });
  api.get('/servers/:id/archives', async (ctx) => {
    const archives = await controller.archives(ctx.params.id!);
    ctx.body = { archives: archives.map((a) => ({ name: a.name, createdAt: new Date(a.ts * 1000).toISOString(), bytes: a.bytes })) };
  });
  addDownloadRoutes(api, controller, isAdmin);
  addUploadRoutes(api, controller, { isAdmin, who });
  consoleRoutes(api, controller, { streams: web.consoles, commandLimit: web.consoleLimit });

  app.use(router.routes()).use(router.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods());
  for (const pages of web.routers) app.use(pages.routes()).use(pages.allowedMethods());
  return { app, web };
}
