import type { Config } from '../config/schema.js';
import { ConfigError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { RunnerEvents } from '../reconcile/runner-events.js';
import type { Db } from '../store/db.js';
import { DeliveryWorker, type DeliveryOptions } from './delivery.js';
import { eventKey, payloadFor, TARGETS, type NotifyEvent, type Target } from './messages.js';
import { OutboxRepo } from './outbox.js';

export type { NotifyEvent } from './messages.js';

export interface NotifierOptions {
  db: Db;
  config: Config['notifications'];
  /** From the environment (OOD_DISCORD_WEBHOOK_URL, OOD_WEBHOOK_URL); secrets. */
  urls: { discordUrl?: string | undefined; webhookUrl?: string | undefined };
  /** Where rows of other senders go (a Discord message's edits, controller/discord/followups.ts): they share this outbox and its worker. */
  routes?: DeliveryOptions['resolve'];
  log: Logger;
  clock?: () => number;
  /** Tests only: shorter backoff, a smaller grace at close. */
  delivery?: Pick<DeliveryOptions, 'backoff' | 'closeGraceMs' | 'concurrency' | 'fetch'>;
}

/** A snapshot's name in a `snapshot` step's journal detail (`Archived to ood-1764000000.tar.gz`, `Snapshot ood-survival-1764000000 (id …)`). */
const SNAPSHOT_NAME = /\b(ood[-a-z0-9]*-\d{9,})\b/;

/**
 * Who hears what happens: turns the loop's phase moves and the controller's start requests into
 * messages, written to the outbox in the same transaction as the change they tell of, and sent by
 * a worker beside the loop. A target is used when it is enabled in the config and has a URL.
 */
export class Notifier {
  readonly events: RunnerEvents;
  private readonly outbox: OutboxRepo;
  private readonly worker: DeliveryWorker;
  private readonly targets: Target[];
  private readonly log: Logger;
  private readonly clock: () => number;

  constructor(private readonly o: NotifierOptions) {
    this.log = o.log.child({ component: 'notify' });
    this.clock = o.clock ?? Date.now;
    this.outbox = new OutboxRepo(o.db);
    const urls: Partial<Record<Target, string>> = {};
    if (o.config.discord && o.urls.discordUrl) urls.discord = httpUrl(o.urls.discordUrl, 'OOD_DISCORD_WEBHOOK_URL');
    if (o.config.webhook && o.urls.webhookUrl) urls.webhook = httpUrl(o.urls.webhookUrl, 'OOD_WEBHOOK_URL');
    this.targets = TARGETS.filter((t) => urls[t] !== undefined);
    this.worker = new DeliveryWorker({
      outbox: this.outbox,
      urls,
      ...(o.routes ? { resolve: o.routes } : {}),
      timeoutMs: o.config.timeout,
      maxAttempts: o.config.maxAttempts,
      log: this.log,
      clock: this.clock,
      ...o.delivery,
    });
    this.events = {
      moved: (move) =>
        this.notify(move.to, () => {
          if (move.to === 'running') return { kind: 'up', server: move.server, address: move.address, at: move.at };
          if (move.to === 'archived' && move.from === 'destroying') return { kind: 'archived', server: move.server, snapshot: this.lastSnapshot(move.server), at: move.at };
          if (move.to === 'failed') return { kind: 'failed', server: move.server, reason: move.reason, at: move.at };
          return undefined;
        }),
      // Nobody came at all is no news to the group; somebody leaving last is.
      emptied: (e) => this.notify('empty', () => (e.afterPlay ? { kind: 'empty', server: e.server, stopsAt: e.stopsAt, at: e.at } : undefined)),
    };
  }

  /** Which targets messages go to (for the start-up log and tests). */
  get enabledTargets(): readonly Target[] {
    return this.targets;
  }

  /** A start was newly wanted; `by` is a display name people recognise. */
  starting(server: string, by: string, etaMs: number | undefined, at: number): void {
    this.notify('starting', () => ({ kind: 'starting', server, by, etaMs, at }));
  }

  start(): void {
    this.worker.start();
  }

  /** Another sender wrote to the outbox (inside its transaction): the worker looks after the commit. */
  wake(): void {
    this.worker.wake();
  }

  /** Stops sending; a send under way gets a few seconds to finish. Call before the database closes. */
  close(): Promise<void> {
    return this.worker.close();
  }

  /**
   * Writes the event's message for each target. Usually inside the caller's transaction; an error of
   * the outbox's own is logged, not thrown, so a notification never undoes the change it tells of —
   * unless SQLite already rolled that transaction back (a full disk), which the caller must hear.
   */
  private notify(what: string, build: () => NotifyEvent | undefined): void {
    if (this.targets.length === 0) return;
    const inTransaction = this.o.db.inTransaction;
    try {
      const event = build();
      // Read each time: a config reload changes the events in this very object.
      if (!event || !this.o.config.events.includes(event.kind)) return;
      const key = eventKey(event);
      for (const target of this.targets) this.outbox.enqueue(key, target, payloadFor(target, event), this.clock());
    } catch (err) {
      if (inTransaction && !this.o.db.inTransaction) throw err;
      this.log.error({ event: what, err: messageOf(err) }, 'Could not queue a notification');
      return;
    }
    this.worker.wake();
  }

  /** The snapshot the last stop took, from its journal row; null when none names one. */
  private lastSnapshot(server: string): string | null {
    const row = this.o.db
      .prepare("SELECT detail FROM journal WHERE server = ? AND step = 'snapshot' AND outcome = 'ok' ORDER BY id DESC LIMIT 1")
      .get(server) as { detail: string | null } | undefined;
    return SNAPSHOT_NAME.exec(row?.detail ?? '')?.[1] ?? null;
  }
}

/**
 * A webhook URL must be http(s). The error names the variable, never the value (it holds a token),
 * and carries no cause: Node's URL error keeps the text it could not parse in `input`.
 */
function httpUrl(url: string, variable: string): string {
  if (!URL.canParse(url)) throw new ConfigError(`${variable} is not a URL; expected the webhook's full https:// address`);
  const { protocol } = new URL(url);
  if (protocol !== 'https:' && protocol !== 'http:') throw new ConfigError(`${variable} is a ${protocol} URL; expected the webhook's https:// address`);
  return url;
}
