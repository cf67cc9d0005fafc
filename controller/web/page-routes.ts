import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { HttpError } from '../api/http-error.js';
import { serverJson } from '../api/server-json.js';
import { timelineJson } from '../api/session-json.js';
import type { Controller } from '../controller.js';
import { messageOf } from '../errors.js';
import { BudgetError } from '../cost/cost-meter.js';
import { may, type Permission } from '../store/people.js';
import type { ServerCards } from './cards.js';
import { checkCsrf } from './csrf.js';
import type { LiveEvents } from './live-events.js';
import { historyBody, type StackView } from './pages/history.js';
import { restoreConfirmBody, worldVersionsSection } from './pages/world-versions.js';
import { consoleSection } from './pages/console.js';
import { backlogOf } from './console-routes.js';
import { html } from './html.js';
import { UnknownWorldVersionError, WorldRestoreRefusedError } from '../worlds/world-errors.js';
import { layout } from './pages/layout.js';
import { costLine, overBudgetBody } from './pages/cost.js';
import { overviewBody } from './pages/server-card.js';
import { clientAddressKey, rateLimit } from './rate-limit.js';
import { pageContext, requirePerson } from './viewer.js';

export interface PageDeps {
  controller: Controller;
  cards: ServerCards;
  events: LiveEvents;
  clock: () => number;
}

type Who = { actor: string; source: string; detail?: string };
const ACTIONS: Record<string, { permission: Permission; run: (c: Controller, id: string, who: Who, overrideBudget: boolean) => unknown }> = {
  start: { permission: 'start', run: (c, id, who, overrideBudget) => c.want(id, 'up', overrideBudget ? { ...who, detail: 'past the budget' } : who, { overrideBudget }) },
  stop: { permission: 'stop', run: (c, id, who) => c.want(id, 'down', who) },
  keepalive: {
    permission: 'start',
    run: (c, id, who) => {
      const phase = c.view(id).state.phase;
      if (phase !== 'running') throw new HttpError(409, `${id} is not running (it is ${phase}); keep alive applies to a running server`);
      return c.keepAlive(id, who);
    },
  },
};

/** The servers overview, a server's history, the Start / Stop / Keep alive buttons, and live updates. */
export function pageRoutes(d: PageDeps): Router {
  const router = new Router();
  const store = d.controller.store;
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const actionLimit = rateLimit({
    name: 'actions',
    max: 20,
    durationMs: 60_000,
    key: (ctx) => String((ctx.state.person as { identity?: string } | undefined)?.identity ?? clientAddressKey(ctx)),
    message: 'Too many Start and Stop presses in a minute; wait a moment and try again.',
  });

  router.param('id', async (id, ctx, next) => {
    if (!d.controller.has(id)) throw new HttpError(404, `There is no server "${id}" here.`);
    await next();
  });

  router.get('/', (ctx) => {
    requirePerson(ctx, store);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    const page = pageContext(ctx, store);
    ctx.body = layout(page, 'Servers', overviewBody(page, d.cards.all(), d.clock(), costLine(d.controller)), { live: true }).text;
  });

  router.get('/servers/:id', async (ctx) => {
    requirePerson(ctx, store);
    const id = ctx.params.id!;
    let stack: StackView;
    try {
      stack = { ...(await d.controller.stackHistory(id)), error: null };
    } catch (err) {
      stack = { stack: null, loading: false, error: messageOf(err) };
    }
    const page = pageContext(ctx, store);
    const worlds = await d.controller.worlds(id).catch((err: unknown) => ({ error: messageOf(err) }));
    const versions = worldVersionsSection(id, worlds, { admin: !!page.person && may(page.person, 'admin'), archived: d.controller.view(id).state.phase === 'archived' });
    ctx.type = 'html';
    // The console (issue 21) only for people with `console`: nobody else gets its lines or its form.
    const consolePart = page.person && may(page.person, 'console') ? consoleSection(page, id, { backlog: backlogOf(d.controller, id) }) : '';
    ctx.body = layout(page, `History of ${id}`, html`${historyBody(id, timelineJson(store, id, d.clock()), store.audit.forServer(id), stack)}${consolePart}${versions}`).text;
  });

  // A restore (admins): a confirmation page naming the newer versions left behind, then its form (CSRF).
  router.get('/servers/:id/worlds/:version/restore', async (ctx) => {
    requirePerson(ctx, store, 'admin');
    const id = ctx.params.id!;
    const versions = await d.controller.worlds(id);
    const at = versions.findIndex((v) => v.id === ctx.params.version);
    if (at < 0) throw new HttpError(404, `${id} has no world version "${ctx.params.version}"; the server page lists the ones it keeps.`);
    const page = pageContext(ctx, store);
    ctx.type = 'html';
    ctx.body = layout(page, `Restore ${id}`, restoreConfirmBody(page, id, versions[at]!, versions.slice(0, at))).text;
  });
  router.post('/servers/:id/worlds/:version/restore', form, async (ctx) => {
    const person = requirePerson(ctx, store, 'admin');
    checkCsrf(ctx);
    const id = ctx.params.id!;
    try {
      await d.controller.restoreWorld(id, ctx.params.version!, { actor: person.identity, source: ctx.ip || 'unknown' });
    } catch (err) {
      if (err instanceof WorldRestoreRefusedError) throw new HttpError(409, err.message);
      if (err instanceof UnknownWorldVersionError) throw new HttpError(404, err.message);
      throw err;
    }
    ctx.status = 303;
    ctx.redirect(`/servers/${id}`);
  });

  router.post('/servers/:id/:action', form, (ctx, next) => {
    requirePerson(ctx, store);
    return next();
  }, actionLimit, (ctx) => {
    const action = ACTIONS[ctx.params.action!];
    if (!action) throw new HttpError(404, `There is no action "${ctx.params.action}"; the buttons are start, stop and keepalive.`);
    const person = requirePerson(ctx, store, action.permission);
    checkCsrf(ctx);
    const id = ctx.params.id!;
    const admin = may(person, 'admin');
    const overrideBudget = admin && (ctx.request.body as Record<string, unknown> | undefined)?.override === '1';
    try {
      action.run(d.controller, id, { actor: person.identity, source: ctx.ip || 'unknown' }, overrideBudget);
    } catch (err) {
      if (!(err instanceof BudgetError) || !admin || ctx.accepts('html', 'json') === 'json') {
        if (err instanceof BudgetError && ctx.accepts('html', 'json') === 'json') {
          ctx.status = 409;
          ctx.body = { error: err.message, budget: true, overridable: admin };
          return;
        }
        throw err;
      }
      // An admin may start it anyway: the page says what it costs and offers the button.
      ctx.status = 409;
      ctx.type = 'html';
      ctx.body = layout(pageContext(ctx, store), 'Over the budget', overBudgetBody(pageContext(ctx, store), id, err.message)).text;
      return;
    }
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.status = 202;
      ctx.body = serverJson(d.controller.view(id));
    } else {
      ctx.status = 303;
      ctx.redirect('/');
    }
  });

  router.get('/events', (ctx) => {
    const person = requirePerson(ctx, store);
    d.events.attach(ctx, person.identity, pageContext(ctx, store).csrf);
  });

  return router;
}

