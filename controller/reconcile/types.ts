/** The life cycle of one server; see DESIGN.md, "The reconcile loop". */
export const PHASES = [
  'archived',
  'provisioning',
  'booting',
  'running',
  'stopping',
  'powering_off',
  'snapshotting',
  'destroying',
  'failed',
] as const;
export type Phase = (typeof PHASES)[number];

export type Desired = 'up' | 'down';

export interface Players {
  online: number;
  max: number;
  names: string[];
}

/** What the driver saw of the world this tick. Nothing here comes from OoD's own memory. */
export interface Observation {
  /** Whether the host (working directory / droplet) exists. */
  host: 'absent' | 'present';
  /**
   * Whether the game's process is running; `unknown` when no probe could tell (SSH to the droplet failed
   * and the status ping was silent). Unknown counts as running: nothing is stopped or removed on it.
   */
  power: 'on' | 'off' | 'unknown';
  /**
   * Whether the machine under the game is powered on, for drivers whose host is a machine of its own
   * (a droplet: it can be on with the game stopped, and it must be off before its snapshot). Absent
   * where the host is only a directory (local).
   */
  machine?: 'on' | 'off';
  /** Whether the game answers a status ping. */
  game: 'answering' | 'silent';
  /** Who is online, or null when no probe could tell (which counts as "players present"). */
  players: Players | null;
}

/** Per-phase scratch state, stored as JSON on the server row and cleared on every phase change. */
export interface Progress {
  attempts?: number;
  nextAttemptAt?: number;
  lastError?: string;
  /** Idle warnings already sent, by their offset before the stop (ms), for `warnedFor`'s stop time. */
  warned?: number[];
  warnedFor?: number;
  /** powering_off escalation already done. */
  terminated?: boolean;
  killed?: boolean;
  /** Game processes started in this booting phase. */
  boots?: number;
  /** Whether anyone joined since the server became ready. */
  joined?: boolean;
  /** `requests` when the server failed: a later request is a person asking again. */
  requestsAtFailure?: number;
  /**
   * Copies of the world (issue 19 item 4). When the last copy of this running phase was tried (written
   * before the copy starts, so a copy that took the controller down is not tried again at once),
   * whether anyone was seen online since then, why the last one failed (shown as a warning until one
   * succeeds), and, in a stop, whether its copy was done or given up.
   */
  lastCopyAt?: number;
  playedSinceCopy?: boolean;
  copyWarning?: string;
  copyingSince?: number;
  stopCopied?: boolean;
}

export interface ServerState {
  id: string;
  desired: Desired;
  desiredAt: number;
  desiredBy: string;
  /** How many requests (start, stop, idle policy) were ever recorded: orders requests without a clock. */
  requests: number;
  phase: Phase;
  phaseSince: number;
  address: string | null;
  lastError: string | null;
  readyAt: number | null;
  emptySince: number | null;
  keepAliveUntil: number | null;
  progress: Progress;
}

/** Steps the loop can take; each is idempotent and implemented by the driver (or the loop). */
export type Step =
  | 'provision'
  | 'boot'
  | 'warn'
  | 'idle_stop'
  | 'stop_game'
  | 'terminate'
  | 'kill'
  | 'kill_hung'
  | 'power_down'
  | 'snapshot'
  | 'destroy'
  | 'copy';

/**
 * What the loop does when a step cannot be done (its attempts are used up, or it cannot be retried):
 * `fail` sends the server to `failed` (only steps that protect data or would start a second host);
 * `skip` journals the error and goes on (a chat warning); a phase moves on to it (a save over RCON
 * that never came: stop the process, which a vanilla server answers by saving).
 */
export type GiveUp = 'fail' | 'skip' | { to: Phase };

export type Decision =
  | {
      kind: 'act';
      step: Step;
      then?: Phase;
      message?: string;
      warning?: number;
      reason: string;
      giveUp?: GiveUp;
      /** What people should read as the server's last error once the step is done (something went wrong, and was handled). */
      lastError?: string;
      /** A copy: how long it may take, and whether the game runs (then saving is paused around it). */
      copy?: { timeoutMs: number; live: boolean };
    }
  | { kind: 'move'; to: Phase; reason: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'wait'; reason: string; until?: number };
