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
  /** Whether the game's process (or the droplet's power) is on. */
  power: 'on' | 'off';
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
}

export interface ServerState {
  id: string;
  desired: Desired;
  desiredAt: number;
  desiredBy: string;
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
  | 'snapshot'
  | 'destroy';

export type Decision =
  | { kind: 'act'; step: Step; then?: Phase; message?: string; warning?: number; reason: string }
  | { kind: 'move'; to: Phase; reason: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'wait'; reason: string; until?: number };
