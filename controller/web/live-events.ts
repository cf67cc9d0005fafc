import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type Koa from 'koa';
import type { Controller } from '../controller.js';
import type { Logger } from '../log.js';
import type { ServerCards } from './cards.js';
import type { PageContext } from './pages/layout.js';
import { serverCard, type ServerCard } from './pages/server-card.js';

interface Client {
  page: PageContext;
  stream: PassThrough;
}

/** More open streams than this are refused (each holds a socket and a little memory). */
const MAX_CLIENTS = 2_000;
const HEARTBEAT_MS = 25_000;
/** Bytes queued for one page beyond which it counts as gone. */
const MAX_BUFFERED = 1 << 20;

/**
 * Live updates by server-sent events: when the controller says something changed, each server's card
 * data is compared with what was sent last, and a changed card goes to every open page, rendered for
 * that page's person (their buttons, their CSRF token). One comparison per change, not per client.
 */
export class LiveEvents {
  private readonly clients = new Set<Client>();
  private sent = new Map<string, string>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    controller: Controller,
    private readonly cards: ServerCards,
    private readonly clock: () => number,
    private readonly log: Logger,
  ) {
    this.unsubscribe = controller.onChange(() => this.broadcast());
    this.heartbeat = setInterval(() => this.each(':\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Turns the request into an event stream for `page`. */
  attach(ctx: Koa.Context, page: PageContext): void {
    if (this.clients.size >= MAX_CLIENTS) {
      ctx.status = 503;
      ctx.set('Retry-After', '30');
      ctx.body = 'Too many live pages are open; this one will try again.';
      return;
    }
    const stream = new PassThrough();
    const client: Client = { page, stream };
    this.clients.add(client);
    const socket = ctx.req.socket;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    const drop = () => {
      this.clients.delete(client);
      stream.end();
    };
    ctx.req.once('close', drop);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache, no-transform');
    // A proxy such as nginx would otherwise hold events back in its buffer.
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
    // Every card now: the page may have been rendered a while before its script connected.
    const now = this.clock();
    stream.write(`retry: 2000\n\n`);
    for (const card of this.cards.all()) stream.write(event(card, page, now));
    (ctx.res as ServerResponse).flushHeaders();
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
      // A page that stopped reading is dropped rather than buffered for without end; its script reconnects.
      if (client.stream.writableLength > MAX_BUFFERED) {
        this.clients.delete(client);
        client.stream.destroy();
        continue;
      }
      for (const card of changed) client.stream.write(event(card, client.page, now));
    }
    this.log.debug({ servers: changed.map((c) => c.json.id), clients: this.clients.size }, 'Sent live updates');
  }

  private each(text: string): void {
    for (const client of this.clients) client.stream.write(text);
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
