import type { ServerResponse } from 'node:http';
import type { PassThrough } from 'node:stream';
import type Koa from 'koa';
import type { Controller } from '../controller.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { ServerCards } from './cards.js';
import type { PageContext } from './pages/layout.js';
import { serverCard, type ServerCard } from './pages/server-card.js';
import { clientAddressKey } from './rate-limit.js';
import { SESSION_COOKIE, type WebSession } from './session.js';
import { StreamCaps, type StreamLimits } from './stream-caps.js';
import { openEventStream } from './event-stream.js';

interface Client {
  /** Who opened the page, and the session it came with: checked again before every send. */
  identity: string;
  sessionId: string;
  address: string;
  /** The CSRF token the page was opened with, until the session holds one. */
  csrf: string;
  stream: PassThrough;
  res: ServerResponse;
}

/** Each stream holds a socket and a little memory; one person or one address gets a few, never all. */
export const STREAM_LIMITS: StreamLimits = { total: 2_000, perPerson: 8, perAddress: 16 };
const HEARTBEAT_MS = 25_000;
/** Bytes queued for one page beyond which it counts as gone. */
const MAX_BUFFERED = 1 << 20;

/**
 * Live updates by server-sent events: when the controller says something changed, each server's card
 * data is compared with what was sent last, and a changed card goes to every open page, rendered for
 * that page's person as they are now (their buttons, their CSRF token). One comparison per change,
 * not per client. A page whose session ended (logged out, expired, person removed) is closed at the
 * next send or heartbeat instead of being sent anything more.
 */
export class LiveEvents {
  private readonly clients = new Set<Client>();
  private readonly caps: StreamCaps;
  private sent = new Map<string, string>();
  private readonly store: Store;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    controller: Controller,
    private readonly cards: ServerCards,
    private readonly clock: () => number,
    private readonly log: Logger,
    limits: StreamLimits = STREAM_LIMITS,
  ) {
    this.store = controller.store;
    this.caps = new StreamCaps(limits);
    this.unsubscribe = controller.onChange(() => this.broadcast());
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Turns the request of `identity` (already checked to be on the list) into an event stream. */
  attach(ctx: Koa.Context, identity: string, csrf: string): void {
    const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    // Counted like every web limit: an IPv6 client by its /64.
    const address = clientAddressKey(ctx);
    const refused = sessionId ? this.caps.refusal(identity, address) : { status: 401 as const, message: 'You are not logged in; log in and reload this page.' };
    if (refused) {
      ctx.status = refused.status;
      ctx.set('Retry-After', '30');
      ctx.body = refused.message;
      return;
    }
    const stream = openEventStream(ctx);
    const client: Client = { identity, sessionId: sessionId!, address, csrf, stream, res: ctx.res };
    this.clients.add(client);
    this.caps.add(identity, address);
    ctx.req.once('close', () => this.drop(client));
    // Every card now: the page may have been rendered a while before its script connected.
    const now = this.clock();
    const page: PageContext = { person: this.store.people.get(identity), csrf };
    for (const card of this.cards.all()) stream.write(event(card, page, now));
    ctx.res.flushHeaders();
  }

  private broadcast(): void {
    if (this.clients.size === 0) return;
    const now = this.clock();
    const next = new Map<string, string>();
    const changed: ServerCard[] = [];
    for (const card of this.cards.all()) {
      const text = JSON.stringify(card);
      next.set(card.json.id, text);
      if (this.sent.get(card.json.id) !== text) changed.push(card);
    }
    this.sent = next;
    if (changed.length === 0) return;
    for (const client of this.clients) {
      const page = this.pageOf(client, now);
      if (!page) continue;
      for (const card of changed) client.stream.write(event(card, page, now));
    }
    this.log.debug({ servers: changed.map((c) => c.json.id), clients: this.clients.size }, 'Sent live updates');
  }

  private beat(): void {
    const now = this.clock();
    for (const client of this.clients) if (this.pageOf(client, now)) client.stream.write(':\n\n');
  }

  /**
   * The client's person and CSRF token as they are now, or undefined after closing a page that may
   * see nothing more: its session is gone or expired, its person removed, or it stopped reading.
   */
  private pageOf(client: Client, now: number): PageContext | undefined {
    // A page that stopped reading is dropped rather than buffered for without end; its script reconnects.
    if (client.stream.writableLength > MAX_BUFFERED) {
      this.drop(client);
      client.res.destroy();
      return undefined;
    }
    const session = this.store.sessions.get(client.sessionId, now) as Partial<WebSession> | undefined;
    const person = session?.identity === client.identity ? this.store.people.get(client.identity) : undefined;
    if (!person) {
      // Ended, not cut: the page's script reconnects, is refused, and the page says to log in.
      this.drop(client);
      return undefined;
    }
    return { person, csrf: session?.csrf ?? client.csrf };
  }

  private drop(client: Client): void {
    if (!this.clients.delete(client)) return;
    this.caps.remove(client.identity, client.address);
    client.stream.end();
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.stream.end();
    this.clients.clear();
  }
}

function event(card: ServerCard, page: PageContext, now: number): string {
  return `event: server\ndata: ${JSON.stringify({ id: card.json.id, html: serverCard(page, card, now).text })}\n\n`;
}
