import type { ServerResponse } from 'node:http';
import type { PassThrough } from 'node:stream';
import type Koa from 'koa';
import { HttpError } from '../api/http-error.js';
import { openEventStream } from './event-stream.js';
import type { Logger } from '../log.js';
import type { LogHub, LogLine, LogSubscription } from '../logs/log-hub.js';
import { may } from '../store/people.js';
import type { Store } from '../store/store.js';
import { clientAddressKey } from './rate-limit.js';
import { SESSION_COOKIE } from './session.js';
import { StreamCaps, type StreamLimits } from './stream-caps.js';

/** Each console stream holds a socket and a hub subscription; one person or one address gets a few, never all. */
export const CONSOLE_STREAM_LIMITS: StreamLimits = { total: 1_000, perPerson: 8, perAddress: 16 };
const HEARTBEAT_MS = 25_000;
/** Bytes queued for one client beyond which it has fallen behind: it gets `gap` and is let go. */
const MAX_BEHIND = 1 << 20;
/**
 * The backlog sent on open is at most this many bytes (its newest lines): 500 lines of 8 KiB would be 4 MiB,
 * which a slow client could not take before falling 1 MiB behind, and it would reconnect for ever.
 */
const MAX_BACKLOG_BYTES = 512 << 10;
/** Lines per `line` event of the backlog: a client parses a few small JSON texts, not one of half a MiB. */
const BACKLOG_EVENT_LINES = 100;
/** A client let go with `gap` that still has not read its buffer by then is cut off. */
const GONE_AFTER_MS = 30_000;

/** Who reads a console stream, as the route that opened it knows them. */
export interface ConsoleViewer {
  /** Counted against the per-person cap. */
  identity: string;
  /** Counted against the per-address cap (clientAddressKey: an IPv6 client by its /64). */
  address: string;
  /** Asked before every batch and heartbeat: false ends the stream (a session gone, `console` taken away). */
  stillAllowed: () => boolean;
}

interface Client {
  viewer: ConsoleViewer;
  stream: PassThrough;
  res: ServerResponse;
  subscription: LogSubscription | undefined;
}

/**
 * The one producer of console lines as server-sent events, for the server page (web/console-routes.ts)
 * and the API (`GET /api/servers/:id/logs`). On open: `retry:`, then the hub's backlog as `line` events;
 * then one `line` event per hub batch, `data` a JSON array of `{at, kind, text}` (text from the game is
 * never HTML: the page sets it as textContent). A client that falls 1 MiB behind gets `gap` and is let
 * go, so its script reconnects and starts again from the backlog; a comment line every 25 s keeps
 * proxies from closing a quiet stream. Before every batch and heartbeat the viewer is asked again
 * whether it may still read: a logged-out session or a `console` permission taken away stops the flow.
 */
export class ConsoleStreams {
  private readonly clients = new Set<Client>();
  private readonly caps: StreamCaps;
  private readonly heartbeat: NodeJS.Timeout;
  /** A hub batch is serialised once, whoever reads it. */
  private readonly serialised = new WeakMap<readonly LogLine[], string>();

  constructor(private readonly options: { log: Logger; limits?: StreamLimits; heartbeatMs?: number }) {
    this.caps = new StreamCaps(options.limits ?? CONSOLE_STREAM_LIMITS);
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Turns the request into the stream of `hub`'s lines for `viewer` (already checked to be allowed). */
  attach(ctx: Koa.Context, hub: Pick<LogHub, 'subscribe'>, viewer: ConsoleViewer): void {
    const refused = this.caps.refusal(viewer.identity, viewer.address);
    if (refused) {
      ctx.set('Retry-After', '30');
      throw new HttpError(refused.status, refused.message.replace('live pages', 'live consoles or logs'));
    }
    const stream = openEventStream(ctx);
    const client: Client = { viewer, stream, res: ctx.res, subscription: undefined };
    this.clients.add(client);
    this.caps.add(viewer.identity, viewer.address);
    ctx.req.once('close', () => this.drop(client));
    client.subscription = hub.subscribe((lines) => this.send(client, lines));
    const backlog = newestWithin(client.subscription.backlog, MAX_BACKLOG_BYTES);
    for (let i = 0; i < backlog.length; i += BACKLOG_EVENT_LINES) stream.write(lineEvent(JSON.stringify(backlog.slice(i, i + BACKLOG_EVENT_LINES))));
    ctx.res.flushHeaders();
  }

  /** A batch: gap when the client fell behind, the end when it may no longer read. */
  private send(client: Client, lines: readonly LogLine[]): void {
    if (!this.clients.has(client) || lines.length === 0) return;
    if (this.behind(client)) return;
    if (!this.allowed(client)) return;
    client.stream.write(this.serialise(lines));
  }

  private serialise(lines: readonly LogLine[]): string {
    let text = this.serialised.get(lines);
    if (text === undefined) {
      text = lineEvent(JSON.stringify(lines));
      this.serialised.set(lines, text);
    }
    return text;
  }

  /**
   * Whether the client has more than MAX_BEHIND bytes waiting: then it is told `gap` and let go. Its
   * socket lives on only until it reads that (or GONE_AFTER_MS), so a reader that stopped costs no more.
   */
  private behind(client: Client): boolean {
    const queued = client.stream.writableLength + client.stream.readableLength;
    if (queued <= MAX_BEHIND) return false;
    client.stream.write(`event: gap\ndata: ${JSON.stringify({ behind: queued })}\n\n`);
    this.drop(client);
    const res = client.res;
    setTimeout(() => {
      if (!res.writableFinished) res.destroy();
    }, GONE_AFTER_MS).unref();
    this.options.log.debug({ identity: client.viewer.identity, queued }, 'Let a console stream go that fell behind');
    return true;
  }

  private allowed(client: Client): boolean {
    let allowed = false;
    try {
      allowed = client.viewer.stillAllowed();
    } catch (err) {
      // The check could not be made (the database is unreadable): not allowed, and said so in the log.
      this.options.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Could not check a console reader again; ended its stream');
    }
    if (!allowed) this.drop(client);
    return allowed;
  }

  private beat(): void {
    for (const client of this.clients) {
      if (!this.behind(client) && this.allowed(client)) client.stream.write(':\n\n');
    }
  }

  /** Ends the client's stream (ended, not cut: what was written still reaches it) and frees its place. */
  private drop(client: Client): void {
    if (!this.clients.delete(client)) return;
    client.subscription?.close();
    this.caps.remove(client.viewer.identity, client.viewer.address);
    client.stream.end();
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of [...this.clients]) this.drop(client);
  }
}

/**
 * A viewer on a web session: allowed while the session this request came with still holds the same
 * person, and that person still has `console` (an admin has it).
 */
export function sessionViewer(ctx: Koa.Context, store: Store, identity: string, clock: () => number): ConsoleViewer {
  const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  return {
    identity,
    address: clientAddressKey(ctx),
    stillAllowed: () => {
      if (!sessionId || store.sessions.get(sessionId, clock())?.identity !== identity) return false;
      const person = store.people.get(identity);
      return !!person && may(person, 'console');
    },
  };
}

function lineEvent(json: string): string {
  return `event: line\ndata: ${json}\n\n`;
}

/** The newest lines whose texts add up to at most `bytes` (the backlog's cap by default), oldest first. */
export function newestWithin(lines: readonly LogLine[], bytes = MAX_BACKLOG_BYTES): readonly LogLine[] {
  let total = 0;
  let from = lines.length;
  while (from > 0) {
    total += Buffer.byteLength(lines[from - 1]!.text) + 40;
    if (total > bytes) break;
    from--;
  }
  return lines.slice(from);
}
