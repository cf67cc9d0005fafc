import type { HistoryEntry } from '../../infra/stack.js';
import type { FollowOptions, LogChunk } from '../logs/types.js';
import type { Observation } from '../reconcile/types.js';
import type { PlayerAddress } from '../servers/player-address.js';

export interface ArchiveInfo {
  name: string;
  /** Unix seconds from the name `ood-<ts>`. */
  ts: number;
  bytes: number;
}

/** One update of a server's Pulumi stack, as `pulumi stack history` shows it (secrets hidden). */
export type StackUpdate = HistoryEntry;

/** Who asked for a step that changes the cloud, and why: Pulumi records it as the update's message. */
export interface StepContext {
  /** e.g. `start by admin-token`, `idle 15m`. */
  why: string;
}

/** A copy of the world (issue 19 item 4): how long it may take, whether the game runs, how many to keep. */
export interface CopyOptions {
  /** The whole copy's bound, save-off to save-on (decide: deadlines.stopping, or what is left of it in a stop). */
  timeoutMs: number;
  /** The game runs: saving is paused around the copy (save-off, save-all flush … save-on). */
  live: boolean;
  keep: number;
}

/**
 * What a driver does for the reconcile loop. Every step is idempotent: repeating one after a crash
 * finds what the first attempt made. Each returns a line for the journal.
 */
export interface Driver {
  observe(): Promise<Observation>;
  /** The address players connect to, once a host exists: `playerAddress()` as `host:port`, or '' while unknown. */
  address(): string;
  /** Where players connect (servers/player-address.ts), or null while it cannot be known (no droplet yet). */
  playerAddress(): PlayerAddress | null;
  /** Where the game itself listens, as this machine reaches it (the lobby's proxy target); null with no host. */
  gameEndpoint(): { host: string; port: number } | null;
  /** Creates the host from the newest good archive (or a fresh world when there is none). */
  provision(ctx: StepContext): Promise<string>;
  /** Starts the game on the host. */
  boot(): Promise<string>;
  say(message: string): Promise<void>;
  /** Saves the world and asks the game to stop (RCON `save-all` + `stop`). */
  stopGame(reason: string): Promise<string>;
  terminate(): Promise<string>;
  kill(): Promise<string>;
  /** Powers the machine under the game off (a droplet: `shutdown`, then `power_off` after a deadline). */
  powerDown(): Promise<string>;
  /** Archives the stopped host and confirms the archive is complete and listed. */
  snapshot(): Promise<string>;
  /** Removes the host, only when its confirmed archive exists; then prunes old archives. */
  destroy(ctx: StepContext): Promise<string>;
  archives(): Promise<ArchiveInfo[]>;
  /**
   * Copies the world into `<dataDir>/servers/<id>/copies/` (worlds/copies.ts) and prunes to `keep`.
   * With the game running, saving is turned off for the copy and always on again after it; a durable
   * marker says so until the game confirmed save-on (see resumeSaving).
   */
  copyWorld(options: CopyOptions): Promise<string>;
  /**
   * Called on every tick: where a copy turned saving off and the marker is still there, sends `save-on`
   * and removes the marker once the game confirms (or once no game is left). A journal line, or null
   * when there was nothing to do.
   */
  resumeSaving(observation: Observation): Promise<string | null>;
  /**
   * Sends one console command over RCON and returns the game's answer (issue 21's console). Its own RCON
   * connection, never the loop's: a slow command neither stalls nor closes the loop's player probe.
   */
  consoleCommand(command: string): Promise<string>;
  /**
   * Follows the game's log: its last `tail` lines, then what is written, until `signal` aborts. Local: the
   * game's log file; DigitalOcean: supervisord's log of the game, over the SSH connection already held.
   */
  followLog(options: FollowOptions): AsyncIterable<LogChunk>;
  /** The server's Pulumi stack history, for drivers that keep their hosts in a stack (null otherwise). */
  stackHistory(): Promise<StackUpdate[] | null>;
  close(): Promise<void>;
}
