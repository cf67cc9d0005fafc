import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import type { Controller, Request } from '../controller.js';
import { RconError } from '../errors.js';
import type { LogHub, LogLine } from '../logs/log-hub.js';
import { newestWithin, sessionViewer, type ConsoleStreams, type ConsoleViewer } from '../web/console-stream.js';
import { clientAddressKey } from '../web/rate-limit.js';
import { HttpError } from './http-error.js';

/** The actor the bearer token stands for (api/app.ts sets it). */
const TOKEN_ACTOR = 'admin-token';

const commandBody = z.strictObject({ command: z.string().max(16_384) });

/**
 * How long a read of the log without `follow` waits for a cold hub's follower to deliver the log's end,
 * and for how long no further batch means it has all come. A hub that already follows answers at once.
 */
const FIRST_BATCH_MS = 1_500;
const QUIET_MS = 150;

/** A log line as the API sends it: the time as ISO text, OoD's own lines marked by `kind`. */
export interface LogLineJson {
  at: string;
  kind: LogLine['kind'];
  text: string;
}

export const logLineJson = (line: LogLine): LogLineJson => ({ at: new Date(line.at).toISOString(), kind: line.kind, text: line.text });

/**
 * The console and the log through the API (issue 21), for `ood console` and `ood logs`. The API's auth
 * ran before: a session needs its CSRF token and `console` for the POST and `console` for the reads;
 * the bearer token may do everything. The checks on the command (length, control characters, running,
 * two in flight) and its audit row are the Controller's, the same as the page's.
 */
export function consoleRoutes(api: Router, controller: Controller, o: { streams: ConsoleStreams; /** web/console-routes.ts consoleCommandLimit(), the page's own. */ commandLimit: Koa.Middleware }): void {
  // A session's commands count against the page console's limit (one limiter for both), so the API is no
  // way around it. The token is the admin at the machine; a script piping commands is theirs to run.
  const sessionLimit: Koa.Middleware = (ctx, next) => {
    if (ctx.state.actor === TOKEN_ACTOR) return next();
    ctx.state.consoleActor = ctx.state.actor;
    return o.commandLimit(ctx, next);
  };

  api.post('/servers/:id/console', sessionLimit, async (ctx) => {
    const parsed = commandBody.safeParse(ctx.request.body);
    if (!parsed.success) throw new HttpError(400, 'send {"command": "<one console command>"}, for example {"command": "list"}');
    try {
      ctx.body = { answer: await controller.consoleCommand(ctx.params.id!, parsed.data.command, consoleWho(ctx)) };
    } catch (err) {
      // The game did not answer (RCON refused, timed out or dropped): its words, not a bare 500.
      if (err instanceof RconError) throw new HttpError(502, `${ctx.params.id}'s game did not answer: ${err.message}`);
      throw err;
    }
  });

  api.get('/servers/:id/logs', async (ctx) => {
    const id = ctx.params.id!;
    if (ctx.query.follow !== undefined && ctx.query.follow !== '0') return followLogs(ctx, controller, o.streams);
    ctx.set('Cache-Control', 'no-store');
    const archived = controller.view(id).state.phase === 'archived';
    // The newest 512 KiB, as the stream's backlog and the page: the ring's 500 lines of up to 8 KiB are 4 MiB.
    ctx.body = { lines: newestWithin(await recentLines(controller.logs(id), { archived })).map(logLineJson) };
  });
}

/** Who sent a command, for the audit log: the token's commands come from `ood console`, a session's from its address. */
function consoleWho(ctx: Koa.Context): Request {
  const actor = String(ctx.state.actor);
  return { actor, source: actor === TOKEN_ACTOR ? 'cli' : ctx.ip || 'unknown' };
}

/**
 * The hub's last lines. A hub that follows the log already answers with its ring at once. One that does
 * not (nobody watched for a while) is started by subscribing, and its follower's first batch holds what
 * the log gained meanwhile: the answer waits for it (FIRST_BATCH_MS at most; an empty or missing log
 * sends none) and then until the batches stop. An archived server's log is not followed: its ring is all.
 */
export function recentLines(hub: Pick<LogHub, 'subscribe' | 'following'>, o: { archived: boolean; firstBatchMs?: number; quietMs?: number }): Promise<LogLine[]> {
  const immediate = o.archived || hub.following;
  return new Promise((resolve) => {
    const lines: LogLine[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      subscription.close();
      resolve(lines);
    };
    const subscription = hub.subscribe((batch) => {
      lines.push(...batch);
      clearTimeout(timer);
      timer = setTimeout(done, o.quietMs ?? QUIET_MS);
    });
    lines.unshift(...subscription.backlog);
    if (immediate) return queueMicrotask(done);
    timer ??= setTimeout(done, o.firstBatchMs ?? FIRST_BATCH_MS);
  });
}

/**
 * `?follow=1`: the backlog, then every new line, as server-sent events, through the page's own producer
 * (web/console-stream.ts) and under its caps. A session's stream ends when the session or its `console`
 * does; the token's lasts until the client leaves.
 */
function followLogs(ctx: Koa.Context, controller: Controller, streams: ConsoleStreams): void {
  const actor = String(ctx.state.actor);
  const viewer: ConsoleViewer =
    actor === TOKEN_ACTOR ? { identity: actor, address: clientAddressKey(ctx), stillAllowed: () => true } : sessionViewer(ctx, controller.store, actor, Date.now);
  streams.attach(ctx, controller.logs(ctx.params.id!), viewer);
}
