import type { Observation, ServerState } from './types.js';

export interface IdleSettings {
  emptyAfter: number;
  neverJoined: number;
  warnings: readonly number[];
  keepAlive: number;
}

/**
 * Presence bookkeeping for a running server, from one observation. A probe that failed
 * (`players === null`) counts as players present: a server is never stopped because it could not be seen.
 */
export function trackPresence(
  state: Pick<ServerState, 'emptySince' | 'progress'>,
  observation: Pick<Observation, 'players'>,
  now: number,
): { emptySince: number | null; joined: boolean } {
  const players = observation.players;
  const present = players === null || players.online > 0;
  const joined = (state.progress.joined ?? false) || (players !== null && players.online > 0);
  if (present) return { emptySince: null, joined };
  return { emptySince: state.emptySince ?? now, joined };
}

/**
 * When an idle server is due to stop, or null while people are (or may be) online.
 * Nobody joined since it became ready: `readyAt + neverJoined`; otherwise `emptySince + emptyAfter`;
 * a keep-alive pushes either later, never earlier.
 */
export function stopsAt(
  state: Pick<ServerState, 'readyAt' | 'emptySince' | 'keepAliveUntil' | 'progress'>,
  idle: IdleSettings,
): number | null {
  if (state.emptySince === null || state.readyAt === null) return null;
  const due = state.progress.joined ? state.emptySince + idle.emptyAfter : state.readyAt + idle.neverJoined;
  return Math.max(due, state.keepAliveUntil ?? 0);
}

/** The warning (its offset before the stop) that is due now and not yet sent, if any. */
export function dueWarning(
  state: Pick<ServerState, 'progress'>,
  stopAt: number,
  idle: IdleSettings,
  now: number,
): number | undefined {
  const sent = state.progress.warnedFor === stopAt ? (state.progress.warned ?? []) : [];
  // The nearest due one only: a late tick sends "stopping in 10 s", not a burst of every warning.
  const due = idle.warnings.filter((w) => now >= stopAt - w && now < stopAt).sort((a, b) => a - b);
  const nearest = due[0];
  return nearest !== undefined && !sent.includes(nearest) && !sent.some((s) => s < nearest) ? nearest : undefined;
}

/** The next moment the idle policy has something to do (a warning or the stop), for the loop's timer. */
export function nextIdleEvent(stopAt: number, idle: IdleSettings, now: number): number {
  const times = [stopAt, ...idle.warnings.map((w) => stopAt - w)].filter((t) => t > now);
  return times.length > 0 ? Math.min(...times) : stopAt;
}
