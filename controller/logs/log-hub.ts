import type { Logger } from '../log.js';
import type { RunnerEvents } from '../reconcile/runner-events.js';
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

export interface LogHubOptions {
  server: string;
  /** The driver's follower (Driver.followLog). */
  follow: (options: FollowOptions) => AsyncIterable<LogChunk>;
  log: Logger;
  clock: () => number;
}

/**
 * One per server: the last 500 lines of its console, and the one follower of the game's log that every
 * viewer shares. The first subscriber starts the follower; it stops a while after the last one leaves.
 */
export class LogHub {
  /** Phase changes become OoD lines (called inside the loop's transaction: memory only). */
  readonly events: RunnerEvents = {};

  constructor(private readonly options: LogHubOptions) {}

  /** `listener` gets batches of new lines (about every 100 ms while lines come). */
  subscribe(listener: (lines: readonly LogLine[]) => void): LogSubscription {
    void listener;
    void this.options;
    return { backlog: [], close: () => {} };
  }

  async close(): Promise<void> {}
}
