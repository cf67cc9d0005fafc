import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { Target } from './messages.js';
import { STOPPED_DURING_DELIVERY, type OutboxRepo, type OutboxRow, type OutboxTarget } from './outbox.js';

/** Where one row goes and how, or why it goes nowhere (given up at once, never tried). */
export type Route = { method: 'POST' | 'PATCH'; url: string; /** Discord's API asks for its own form (discord/user-agent.ts). */ userAgent?: string } | { giveUp: string };

export interface DeliveryOptions {
  outbox: OutboxRepo;
  /** Each enabled target's URL. They carry tokens: never logged, never stored, never in an error. */
  urls: Partial<Record<Target, string>>;
  /**
   * Where a row whose target has no entry in `urls` goes (a Discord message's edits: a PATCH whose URL
   * holds the interaction's token, kept as secret as `urls`); undefined when it goes nowhere.
   */
  resolve?: (row: OutboxRow, now: number) => Route | undefined;
  /** One attempt's time limit. */
  timeoutMs: number;
  /** Attempts before a message is given up. */
  maxAttempts: number;
  log: Logger;
  clock?: () => number;
  /** Sends at once, at most. */
  concurrency?: number;
  /** The delay after a first failure, doubling up to `maxMs`. */
  backoff?: { firstMs: number; maxMs: number };
  /** How long `close` waits for sends under way before it cuts them off. */
  closeGraceMs?: number;
  fetch?: typeof fetch;
}

type Outcome = { kind: 'delivered' } | { kind: 'retry'; error: string; afterMs?: number } | { kind: 'give up'; error: string };

export const USER_AGENT = 'ood (Ore on Demand)';

/** A Retry-After longer than this is not waited for in full: a notice an hour late is no notice. */
const MAX_RETRY_AFTER = 3_600_000;
/** setTimeout's limit is ~24 days; a far wake-up is simply re-planned. */
const MAX_SLEEP = 3_600_000;
/** After an error reading the outbox itself (a busy or full disk), look again this much later. */
const AFTER_STORE_ERROR = 5_000;

/**
 * Sends what the outbox holds, beside the reconcile loop and never in its way: one timer, a few sends
 * at a time, each with a time limit. A 2xx is delivered; a 408, 429, 5xx, timeout or network error is
 * tried again later (after a backoff from 2 s doubling to 5 min, or Retry-After when that is longer) until `maxAttempts`;
 * any other answer is given up at once (a wrong URL or a refused body will not get better).
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly stopping = new AbortController();
  private started = false;
  private closed = false;
  private readonly clock: () => number;
  private readonly concurrency: number;
  private readonly backoff: { firstMs: number; maxMs: number };
  private readonly fetch: typeof fetch;

  constructor(private readonly o: DeliveryOptions) {
    this.clock = o.clock ?? Date.now;
    this.concurrency = o.concurrency ?? 4;
    this.backoff = o.backoff ?? { firstMs: 2_000, maxMs: 300_000 };
    this.fetch = o.fetch ?? fetch;
  }

  /** Closes what a stopped controller left half-sent, then sends whatever is due. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const interrupted = this.o.outbox.closeInterrupted(this.clock());
    if (interrupted > 0) this.o.log.warn({ interrupted }, 'Gave up on notifications cut off by a stop of the controller; they may have arrived, so they are not sent again');
    this.o.outbox.prune(this.clock() - KEEP_CLOSED);
    this.schedule(0);
  }

  /**
   * Something was enqueued. Called inside the enqueuer's transaction, so the look happens on a later
   * turn of the event loop, after the commit (or the rollback).
   */
  wake(): void {
    if (this.started && !this.closed) this.schedule(0);
  }

  /** Stops sending; waits up to `closeGraceMs` for sends under way, then cuts them off (they are given up). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const settled = Promise.allSettled([...this.inFlight.values()]);
    let grace: NodeJS.Timeout | undefined;
    const finished = await Promise.race([settled.then(() => true), new Promise<false>((resolve) => (grace = setTimeout(() => resolve(false), this.o.closeGraceMs ?? 3_000)))]);
    clearTimeout(grace);
    if (!finished) {
      this.stopping.abort();
      await settled;
    }
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.min(Math.max(0, delay), MAX_SLEEP));
    // The controller's server keeps the process alive; a pending retry alone should not.
    this.timer.unref();
  }

  private pump(): void {
    if (this.closed) return;
    const { outbox } = this.o;
    try {
      const now = this.clock();
      for (const row of outbox.claimDue(now, this.concurrency - this.inFlight.size)) {
        const sending = this.send(row).finally(() => {
          this.inFlight.delete(row.id);
          this.schedule(0);
        });
        this.inFlight.set(row.id, sending);
      }
      // With every slot busy, the next finished send looks again.
      if (this.inFlight.size >= this.concurrency) return;
      const next = outbox.nextDue();
      if (next !== undefined) this.schedule(next - now);
    } catch (err) {
      this.o.log.error({ err: messageOf(err) }, 'Could not read the notification outbox; trying again shortly');
      this.schedule(AFTER_STORE_ERROR);
    }
  }

  /** One attempt; never rejects. */
  private async send(row: OutboxRow): Promise<void> {
    let outcome: Outcome;
    try {
      const route = this.route(row);
      outcome = 'giveUp' in route ? { kind: 'give up', error: route.giveUp } : await this.request(row, route);
    } catch (err) {
      // Where it goes could not be read (a busy disk): tried again later, like a network error.
      outcome = { kind: 'retry', error: `could not find where it goes: ${messageOf(err)}` };
    }
    try {
      this.record(row, outcome);
    } catch (err) {
      // The row stays `sending`; the next start-up gives it up rather than send it twice.
      this.o.log.error({ target: row.target, event: row.eventKey, err: messageOf(err) }, 'Could not record what became of a notification');
    }
  }

  /** The HTTP request; never rejects. Errors never carry the URL (it holds the token). */
  private async request(row: OutboxRow, { method, url, userAgent }: { method: 'POST' | 'PATCH'; url: string; userAgent?: string }): Promise<Outcome> {
    try {
      const res = await this.fetch(url, {
        method,
        headers: { 'content-type': 'application/json', 'user-agent': userAgent ?? USER_AGENT },
        body: row.payload,
        // A redirect would turn the POST into a GET somewhere else: the URL needs fixing instead.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.stopping.signal]),
      });
      const outcome = classify(res.status, res.headers.get('retry-after'), this.clock());
      await this.discardBody(res, row.target);
      return outcome;
    } catch (err) {
      if (this.stopping.signal.aborted) return { kind: 'give up', error: STOPPED_DURING_DELIVERY };
      if ((err as Error).name === 'TimeoutError') return { kind: 'retry', error: `no answer within ${Math.round(this.o.timeoutMs / 100) / 10} s` };
      return { kind: 'retry', error: failureText(err, url) };
    }
  }

  /** A configured target's URL by POST, else what `resolve` says. */
  private route(row: OutboxRow): Route {
    const url = this.o.urls[row.target as Target];
    if (url) return { method: 'POST', url };
    return this.o.resolve?.(row, this.clock()) ?? { giveUp: `no URL is set for ${row.target}` };
  }

  private record(row: OutboxRow, outcome: Outcome): void {
    const { outbox, log, maxAttempts } = this.o;
    const now = this.clock();
    const at = { target: row.target, event: row.eventKey, attempts: row.attempts };
    if (outcome.kind === 'delivered') {
      outbox.delivered(row.id, now);
      log.info(at, `Delivered a notification to ${row.target}`);
    } else if (outcome.kind === 'give up' || row.attempts >= maxAttempts) {
      const error = outcome.kind === 'give up' ? outcome.error : `${outcome.error} (gave up after ${row.attempts} attempts)`;
      outbox.givenUp(row.id, now, error);
      log.error({ ...at, error }, `Gave up on a notification to ${row.target}`);
    } else {
      // Retry-After may only lengthen the wait: a receiver answering `0` would otherwise burn every attempt in a moment.
      const step = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** (row.attempts - 1));
      const afterMs = Math.max(step, outcome.afterMs ?? 0);
      outbox.retryAt(row.id, now + afterMs, outcome.error);
      log.warn({ ...at, error: outcome.error, retryInMs: afterMs }, `Could not deliver a notification to ${row.target}; trying again`);
    }
  }

  /** Frees the connection; a body that fails to drain changes nothing about the answer already read. */
  private async discardBody(res: Response, target: OutboxTarget): Promise<void> {
    try {
      await res.body?.cancel();
    } catch (err) {
      this.o.log.debug({ target, err: messageOf(err) }, `Could not discard the answer of ${target}`);
    }
  }
}

/** Closed rows are kept this long, for people reading the table. */
const KEEP_CLOSED = 90 * 86_400_000;

/** What an HTTP status means for this message. Only the status is kept: an answer's body may echo anything. */
export function classify(status: number, retryAfter: string | null, now: number): Outcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const error = `answered HTTP ${status}`;
  if (status === 429) {
    const afterMs = parseRetryAfter(retryAfter, now);
    return afterMs === undefined ? { kind: 'retry', error } : { kind: 'retry', error, afterMs };
  }
  if (status === 408 || status >= 500) return { kind: 'retry', error };
  if (status >= 300 && status < 400) return { kind: 'give up', error: `${error} (a redirect): set the URL to where it points` };
  return { kind: 'give up', error };
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (Number.isNaN(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER, Math.max(0, Math.ceil(ms)));
}

/**
 * A network error in words, without the URL: fetch names it in some messages ("Failed to parse URL
 * from …"), and its path is the webhook's token.
 */
export function failureText(err: unknown, url: string): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const text = typeof code === 'string' ? code : messageOf(cause ?? err);
  return redactUrl(text, url);
}

export function redactUrl(text: string, url: string): string {
  const secrets = [url];
  try {
    const parsed = new URL(url);
    secrets.push(parsed.href, `${parsed.pathname}${parsed.search}`, parsed.pathname, parsed.search, parsed.username, parsed.password);
  } catch (err) {
    // Not a URL at all: the whole text was the secret, and it is already in the list.
    if (!(err instanceof TypeError)) throw err;
  }
  let out = text;
  for (const s of secrets.filter((s) => s.length > 1).sort((a, b) => b.length - a.length)) out = out.split(s).join('[url]');
  return out;
}
