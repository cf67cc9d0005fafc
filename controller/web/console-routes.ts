import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type Koa from 'koa';
import { HttpError } from '../api/http-error.js';
import { ConsoleBusyError, ConsoleCommandError, ConsoleNotRunningError } from '../console/console-errors.js';
import type { Controller } from '../controller.js';
import { RconError } from '../errors.js';
import type { LogLine } from '../logs/log-hub.js';
import { checkCsrf } from './csrf.js';
import type { ConsoleStreams } from './console-stream.js';
import { newestWithin, sessionViewer } from './console-stream.js';
import { consolePageBody, type ConsoleAnswer } from './pages/console.js';
import { layout } from './pages/layout.js';
import { rateLimit } from './rate-limit.js';
import { pageContext, requirePerson } from './viewer.js';

export interface ConsoleRouteDeps {
  controller: Controller;
  streams: ConsoleStreams;
  /** consoleCommandLimit(), shared with the API's console route. */
  commandLimit: Koa.Middleware;
  clock: () => number;
}

/** Commands one person may send in a minute, over every server: enough to type, too few to flood the game or the audit log. */
export const COMMANDS_PER_MINUTE = 30;

/**
 * The one limit of a person's console commands, through the page and the API alike (one instance is
 * made per web app and given to both routes): keyed by `ctx.state.consoleActor`, which each route sets.
 */
export function consoleCommandLimit(): Koa.Middleware {
  return rateLimit({
    name: 'console',
    max: COMMANDS_PER_MINUTE,
    durationMs: 60_000,
    key: (ctx) => String(ctx.state.consoleActor),
    message: `More than ${COMMANDS_PER_MINUTE} console commands in a minute; wait a moment and send it again.`,
  });
}

/**
 * The console on the web pages (people with `console`; admins have it): `GET /servers/:id/console/events`
 * streams the game's log (web/console-stream.ts), `POST /servers/:id/console` sends one command (form or
 * JSON, CSRF, 30 a minute per person) and answers `{answer}`, or the console page for a form posted
 * without JavaScript; `GET /servers/:id/console` is that page.
 * Mounted before the page routes: their `POST /servers/:id/:action` would take `console` for an action.
 */
export function consoleRoutes(d: ConsoleRouteDeps): Router {
  const router = new Router();
  const store = d.controller.store;
  // A command is at most 1446 bytes; percent-encoded, each byte can take three.
  const body = bodyParser({ enableTypes: ['form', 'json'], formLimit: '16kb', jsonLimit: '16kb' });

  router.param('id', async (id, ctx, next) => {
    if (!d.controller.has(id)) throw new HttpError(404, `There is no server "${id}" here.`);
    await next();
  });

  router.get('/servers/:id/console/events', (ctx) => {
    const person = requirePerson(ctx, store, 'console');
    d.streams.attach(ctx, d.controller.logs(ctx.params.id!), sessionViewer(ctx, store, person.identity, d.clock));
  });

  router.get('/servers/:id/console', (ctx) => {
    requirePerson(ctx, store, 'console');
    consolePage(ctx, ctx.params.id!, 200);
  });

  router.post(
    '/servers/:id/console',
    body,
    (ctx, next) => {
      ctx.state.consoleActor = requirePerson(ctx, store, 'console').identity;
      checkCsrf(ctx);
      return next();
    },
    d.commandLimit,
    async (ctx) => {
      const person = requirePerson(ctx, store, 'console');
      const id = ctx.params.id!;
      const command = (ctx.request.body as Record<string, unknown> | undefined)?.command;
      if (typeof command !== 'string') throw new HttpError(400, 'Send the command as the field "command".');
      const wantsJson = ctx.accepts('html', 'json') === 'json';
      let answer: string;
      try {
        answer = await d.controller.consoleCommand(id, command, { actor: person.identity, source: ctx.ip || 'unknown' });
      } catch (caught) {
        const err = caught instanceof RconError ? new HttpError(502, `${id}'s game did not answer: ${caught.message}`) : caught;
        const refused = err instanceof HttpError || err instanceof ConsoleCommandError || err instanceof ConsoleNotRunningError || err instanceof ConsoleBusyError;
        if (wantsJson || !refused) throw err;
        // A form posted without JavaScript: the console again, with why the command was not taken.
        return consolePage(ctx, id, err.status, { command, text: err.message, failed: true });
      }
      if (wantsJson) ctx.body = { answer };
      else consolePage(ctx, id, 200, { command, text: answer || '(the game answered nothing)', failed: false });
    },
  );

  /** The console page, with the newest lines the hub holds. */
  function consolePage(ctx: Koa.Context, id: string, status: number, answer?: ConsoleAnswer): void {
    const page = pageContext(ctx, store);
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = layout(page, `Console of ${id}`, consolePageBody(page, id, { backlog: backlogOf(d.controller, id), ...(answer ? { answer } : {}) })).text;
  }

  return router;
}

/**
 * The lines a page shows before its script connects (or for good, without JavaScript). Subscribing is how
 * a hub is asked; a hub with no follower yet starts one, so the next look has the log's tail. At most the backlog's
 * byte cap, like the stream's.
 */
export function backlogOf(controller: Controller, id: string): readonly LogLine[] {
  const subscription = controller.logs(id).subscribe(() => {});
  subscription.close();
  return newestWithin(subscription.backlog);
}
