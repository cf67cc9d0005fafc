import Router from '@koa/router';
import type Koa from 'koa';
import type { Controller } from '../controller.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { pruneAudit } from '../store/audit-retention.js';
import { adminRoutes } from './admin-routes.js';
import { loginRoutes } from './auth/login-routes.js';
import type { LoginProvider } from './auth/providers.js';
import { ServerCards } from './cards.js';
import { consoleCommandLimit, consoleRoutes } from './console-routes.js';
import { ConsoleStreams } from './console-stream.js';
import { LiveEvents } from './live-events.js';
import { pageRoutes } from './page-routes.js';
import { securityHeaders } from './security-headers.js';
import { sessions } from './session.js';
import { staticRoutes } from './static-files.js';

export interface WebOptions {
  providers: readonly LoginProvider[];
  /** The address people open (web.publicUrl, or the listen address). */
  origin: string;
  /** Keys that sign the session cookie, newest first. */
  sessionKeys: string[];
  log: Logger;
  clock?: () => number;
}

export interface Web {
  /** The routers, in the order they are mounted after the API. */
  routers: Router[];
  /** Middleware every request passes through first: security headers and the session. */
  middleware: Koa.Middleware[];
  events: LiveEvents;
  /** The console's line streams (the server page's and `GET /api/servers/:id/logs`): one set of caps for both. */
  consoles: ConsoleStreams;
  /** A person's console commands a minute, through the page and the API together. */
  consoleLimit: Koa.Middleware;
  close(): void;
}

const SWEEP_EVERY_MS = 60_000;

/** The web pages on the API's app: sessions, login, the overview and history pages, the admin page, live updates. */
export function createWeb(app: Koa, controller: Controller, o: WebOptions): Web {
  const clock = o.clock ?? Date.now;
  const store = controller.store;
  const config = controller.config;
  app.keys = o.sessionKeys;
  const log = o.log.child({ component: 'web' });
  const cards = new ServerCards(controller, config);
  const events = new LiveEvents(controller, cards, clock, log);
  const consoles = new ConsoleStreams({ log: log.child({ component: 'console' }) });
  const consoleLimit = consoleCommandLimit();
  const statics = new Router();
  staticRoutes(statics);
  // Expired session rows and audit rows past their retention go a bounded batch a minute (at most
  // 1,000 each, a short write), not on a request's time.
  const sweep = setInterval(() => {
    try {
      const gone = store.sessions.sweep(clock());
      if (gone > 0) log.debug({ gone }, 'Deleted expired sessions');
      const pruned = pruneAudit(store.db, clock());
      if (pruned > 0) log.debug({ pruned }, 'Deleted audit rows past their retention');
      // Discord messages done or past their 15 min token: the token blanked, a day later the row deleted.
      const closed = controller.discordFollowups?.prune(clock()) ?? 0;
      if (closed > 0) log.debug({ closed }, 'Closed or deleted Discord messages no longer edited');
    } catch (err) {
      log.warn({ err: messageOf(err) }, 'Could not delete expired sessions or old audit rows; trying again in a minute');
    }
  }, SWEEP_EVERY_MS);
  sweep.unref();
  return {
    middleware: [securityHeaders(), sessions(app, store.sessions, { maxAge: config.web.sessionMaxAge, clock })],
    routers: [
      statics,
      loginRoutes({ store, web: config.web, providers: o.providers, origin: o.origin, log, clock }),
      // Before the page routes: their POST /servers/:id/:action would take `console` for an action.
      consoleRoutes({ controller, streams: consoles, commandLimit: consoleLimit, clock }),
      pageRoutes({ controller, cards, events, clock }),
      adminRoutes({ store, origin: o.origin, clock, providers: o.providers.map((p) => p.label) }),
    ],
    events,
    consoles,
    consoleLimit,
    close: () => {
      clearInterval(sweep);
      events.close();
      consoles.close();
    },
  };
}
