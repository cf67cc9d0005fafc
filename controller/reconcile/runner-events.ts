import type { Phase } from './types.js';

/** A phase change, as the loop records it. */
export interface PhaseMove {
  server: string;
  from: Phase;
  to: Phase;
  reason: string;
  at: number;
  /** The address players use, when the server has one after this move. */
  address: string | null;
}

/**
 * What a runner tells the rest of the controller (the cost meter, notifications), called inside the
 * same SQLite transaction as the change itself: what a listener writes commits with it, or not at all.
 * Listeners must be quick and must not throw for reasons of their own.
 */
export interface RunnerEvents {
  moved?(move: PhaseMove): void;
  /** The host was seen to exist, or to be gone, unlike the last observation (and on the runner's first one). */
  host?(e: { server: string; present: boolean; at: number }): void;
  /** Who is online changed while running: `online` is everyone now. */
  presence?(e: { server: string; online: readonly string[]; at: number }): void;
  /** A running server became empty: the last player left (`afterPlay`), or nobody came. It stops at `stopsAt`. */
  emptied?(e: { server: string; at: number; stopsAt: number | null; afterPlay: boolean }): void;
}

/** Several listeners as one, called in the order given. */
export function allOf(...listeners: readonly RunnerEvents[]): RunnerEvents {
  return {
    moved: (m) => listeners.forEach((l) => l.moved?.(m)),
    host: (h) => listeners.forEach((l) => l.host?.(h)),
    presence: (p) => listeners.forEach((l) => l.presence?.(p)),
    emptied: (e) => listeners.forEach((l) => l.emptied?.(e)),
  };
}
