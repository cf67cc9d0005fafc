import type { Logger } from '../log.js';
import type { PhaseMove, RunnerEvents } from '../reconcile/runner-events.js';
import type { Phase } from '../reconcile/types.js';
import { LineCutter } from './line-cutter.js';
import type { FollowOptions, LogChunk } from './types.js';

/** One line of a server's console: the game's own, or OoD's (a phase change, a note about the log file). */
export interface LogLine {
  /** Unix ms when OoD read (or wrote) it. */
  at: number;
  kind: 'game' | 'ood';
  /** Already cut and cleaned (logs/line-cutter.ts): no control characters, at most 8 KiB. */
  text: string;
}

export interface LogSubscription {
  /** The ring's lines at the moment of subscribing (up to 500), oldest first. */
  readonly backlog: readonly LogLine[];
  close(): void;
}

/** The hub's waits; tests shorten them. */
export interface LogHubTiming {
  /** New lines go out to listeners together, this long after the first of them. */
  batchMs: number;
  /** The follower stops this long after the last listener left (a page reload keeps it). */
  idleStopMs: number;
  /** A follower that failed is started again after this, doubling up to `retryMaxMs`. */
  retryFirstMs: number;
  retryMaxMs: number;
}

export const LOG_HUB_TIMING: LogHubTiming = { batchMs: 100, idleStopMs: 30_000, retryFirstMs: 1_000, retryMaxMs: 30_000 };

export interface LogHubOptions {
  server: string;
  /** The driver's follower (Driver.followLog). */
  follow: (options: FollowOptions) => AsyncIterable<LogChunk>;
  log: Logger;
  clock: () => number;
  /**
   * Whether the server is archived now (the store's phase). A hub made at start-up has seen no phase
   * move, so without this the first viewer of a sleeping server would start a follower of a log nobody writes.
   */
  asleep?: () => boolean;
  timing?: Partial<LogHubTiming>;
}

/**
 * Phases after the game has stopped for good: nothing more is written to its log, and a droplet being
 * powered off, snapshotted and deleted is no host to follow (retrying SSH to it would only fail).
 */
const NO_GAME: ReadonlySet<Phase> = new Set<Phase>(['powering_off', 'snapshotting', 'destroying', 'archived']);
/** After a stop, how long the follower keeps reading the game's last words before it lets go. */
const LAST_WORDS_MS = 1_000;

/** Lines kept per server: what a console shows on open. */
export const RING_LINES = 500;
/**
 * Text one batch holds at most (each line counted with 40 bytes of JSON around it): every viewer's stream is
 * sent a batch whole, so a log written at disk speed would otherwise queue megabytes per viewer every
 * 100 ms. Past it, the batch's oldest lines are skipped and an OoD line says how many.
 */
export const MAX_BATCH_BYTES = 512 * 1024;
/** Lines of the ring a restarted follower's tail is matched against, to leave out what was shown. */
const MATCH_LINES = 5;

/**
 * One per server: the last 500 lines of its console, and the one follower of the game's log that every
 * viewer shares. The first subscriber starts the follower; it stops a while after the last one leaves.
 */
export class LogHub {
  /** Phase changes become OoD lines (called inside the loop's transaction: memory only). */
  readonly events: RunnerEvents = { moved: (move) => this.moved(move) };

  private readonly timing: LogHubTiming;
  private ring: LogLine[] = [];
  private readonly listeners = new Set<(lines: readonly LogLine[]) => void>();
  private pending: LogLine[] = [];
  private pendingBytes = 0;
  /** Lines left out of the pending batch since the last one went out. */
  private skipped = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private follower: { abort: AbortController; done: Promise<void> } | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  /** A failure streak shows its first error only. */
  private failureShown = false;
  /** Lines of a restarted follower's tail, held until they can be matched against the ring. */
  private resync: LogLine[] | undefined;
  /** The server is in a NO_GAME phase: nothing to follow. */
  private gameGone = false;
  private closed = false;

  constructor(private readonly options: LogHubOptions) {
    this.timing = { ...LOG_HUB_TIMING, ...options.timing };
    this.retryMs = this.timing.retryFirstMs;
  }

  /** `listener` gets batches of new lines (about every 100 ms while lines come). */
  subscribe(listener: (lines: readonly LogLine[]) => void): LogSubscription {
    const backlog = [...this.ring];
    this.listeners.add(listener);
    clearTimeout(this.stopTimer);
    this.stopTimer = undefined;
    this.startFollower();
    return {
      backlog,
      close: () => {
        if (!this.listeners.delete(listener) || this.listeners.size > 0 || this.closed) return;
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.stopTimer = setTimeout(() => this.stopFollower(), this.timing.idleStopMs);
      },
    };
  }

  /** Whether the game's log is being followed now (for tests and the bench). */
  get following(): boolean {
    return this.follower !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    for (const timer of [this.batchTimer, this.stopTimer, this.retryTimer]) clearTimeout(timer);
    const follower = this.follower;
    this.stopFollower();
    await follower?.done;
  }

  /** Inside the loop's transaction: memory and timers only, and nothing that can throw. */
  private moved(move: PhaseMove): void {
    this.add({ at: move.at, kind: 'ood', text: `phase ${move.from} → ${move.to}: ${move.reason}` });
    this.gameGone = NO_GAME.has(move.to);
    // Off the transaction: aborting runs the follower's own listeners.
    if (this.gameGone) setTimeout(() => this.gameGone && this.stopFollower(), move.to === 'archived' ? 0 : LAST_WORDS_MS);
    else if (this.listeners.size > 0 && !this.follower && !this.retryTimer) setImmediate(() => this.startFollower());
  }

  private startFollower(): void {
    if (this.follower || this.closed || this.gameGone || this.retryTimer || this.options.asleep?.() === true) return;
    const abort = new AbortController();
    // A follower after the first re-reads the log's tail: the lines the ring already has are left out.
    if (this.ring.some((line) => line.kind === 'game')) this.resync = [];
    const done = this.runFollower(abort.signal).then(
      () => this.followerEnded(abort, new Error('the log follow ended')),
      (err: unknown) => this.followerEnded(abort, err),
    );
    this.follower = { abort, done };
  }

  private async runFollower(signal: AbortSignal): Promise<void> {
    const cutter = new LineCutter();
    const flushPartial = () => {
      const partial = cutter.flush();
      if (partial !== null) this.add({ at: this.options.clock(), kind: 'game', text: partial });
    };
    try {
      for await (const chunk of this.options.follow({ tail: RING_LINES, signal })) {
        if (signal.aborted) return;
        this.failureShown = false;
        this.retryMs = this.timing.retryFirstMs;
        if (chunk.kind === 'note') {
          flushPartial();
          this.add({ at: this.options.clock(), kind: 'ood', text: chunk.text });
          continue;
        }
        for (const text of cutter.push(chunk.bytes)) this.add({ at: this.options.clock(), kind: 'game', text });
      }
    } finally {
      if (!signal.aborted) flushPartial();
    }
  }

  private followerEnded(abort: AbortController, err: unknown): void {
    if (this.follower?.abort === abort) this.follower = undefined;
    // The game has stopped: its host going away ends the follow, and that is no failure to show.
    if (abort.signal.aborted || this.closed || this.gameGone) return;
    const message = err instanceof Error ? err.message : String(err);
    if (!this.failureShown) {
      this.failureShown = true;
      this.options.log.warn({ err: message }, 'Could not follow the game log; trying again');
      this.add({ at: this.options.clock(), kind: 'ood', text: `could not follow the game's log (${message}); trying again` });
    }
    if (this.listeners.size === 0 || this.gameGone) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.startFollower();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, this.timing.retryMaxMs);
  }

  private stopFollower(): void {
    clearTimeout(this.stopTimer);
    clearTimeout(this.retryTimer);
    this.stopTimer = undefined;
    this.retryTimer = undefined;
    const follower = this.follower;
    this.follower = undefined;
    follower?.abort.abort();
    if (this.resync) this.endResync();
  }

  private add(line: LogLine): void {
    if (this.resync && line.kind === 'game') this.resync.push(line);
    else this.keep(line);
    this.batchTimer ??= setTimeout(() => this.sendBatch(), this.timing.batchMs);
  }

  private keep(line: LogLine): void {
    this.ring.push(line);
    if (this.ring.length > RING_LINES) this.ring.splice(0, this.ring.length - RING_LINES);
    this.pending.push(line);
    this.pendingBytes += batchBytes(line);
    if (this.pendingBytes > MAX_BATCH_BYTES && this.pending.length > 1) {
      // The oldest half at once, so a flood of tiny lines costs no shift per line.
      const cut = this.pending.splice(0, Math.ceil(this.pending.length / 2));
      this.skipped += cut.length;
      this.pendingBytes = this.pending.reduce((n, l) => n + batchBytes(l), 0);
    }
  }

  /**
   * A restarted follower's tail, matched against the ring: what follows the ring's last game lines is
   * new. Without a match (another host, or more was written than the tail holds) all of it is new.
   */
  private endResync(): void {
    const held = this.resync ?? [];
    this.resync = undefined;
    const shown = this.ring.filter((line) => line.kind === 'game').slice(-MATCH_LINES).map((line) => line.text);
    let from = 0;
    for (let end = held.length; shown.length > 0 && end >= shown.length; end--) {
      if (shown.every((text, i) => held[end - shown.length + i]!.text === text)) {
        from = end;
        break;
      }
    }
    for (const line of held.slice(from)) this.keep(line);
  }

  private sendBatch(): void {
    this.batchTimer = undefined;
    // The tail of a restarted follower comes at once: by the first batch with its lines it is all here
    // (a batch of OoD lines alone, a phase move, can come before it does).
    if (this.resync && this.resync.length > 0) this.endResync();
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.skipped > 0) {
      // Dated as the first line kept, so the batch stays in time order for readers that resume by time (ood logs -f).
      lines.unshift({ at: lines[0]?.at ?? this.options.clock(), kind: 'ood', text: `${this.skipped} lines skipped here: the game wrote them faster than the console shows (its log file has them all)` });
      this.skipped = 0;
    }
    if (lines.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(lines);
      } catch (err) {
        this.options.log.warn({ err: (err as Error).message }, 'A console listener failed');
      }
    }
  }
}

const batchBytes = (line: LogLine) => Buffer.byteLength(line.text) + 40;
