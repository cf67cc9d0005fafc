import type { Observation, Phase } from './types.js';

/** The phases of one stop, from saving the game to removing its host. */
const STOPPING: ReadonlySet<Phase> = new Set(['stopping', 'powering_off', 'snapshotting', 'destroying']);

/**
 * How long one stop has been going on, across its phases, measured on the loop's monotonic clock.
 * Each phase has its own deadline, but a stop can go round: a host still listed after its removal
 * sends `archived` back to `powering_off`, and a droplet powered on again sends `snapshotting` back.
 * Each lap is within its deadlines, so only the whole stop's length can end the laps (see decide's
 * `stopCycleLimit`). A stop ends when the server leaves for any phase outside it (a person started
 * it, or it failed), or has stayed archived with no host for `settleMs`: one listing without the host
 * proves nothing when the next may show it again (a list that flips), and each such lap must count.
 */
export class StopCycleClock {
  private since: number | undefined;
  /** Since when the server has been archived with no host seen, within a stop. */
  private goneSince: number | undefined;

  constructor(private readonly settleMs = 10 * 60_000) {}

  /** Notes this tick's phase and observation; returns how long the stop has lasted, or 0 outside one. */
  note(phase: Phase, observation: Observation, mono: number): number {
    const archivedEmpty = phase === 'archived' && observation.host === 'absent';
    if (!STOPPING.has(phase) && phase !== 'archived') return this.end();
    if (this.since === undefined && archivedEmpty) return 0;
    this.since ??= mono;
    if (!archivedEmpty) this.goneSince = undefined;
    else if ((this.goneSince ??= mono) + this.settleMs <= mono) return this.end();
    return mono - this.since;
  }

  private end(): 0 {
    this.since = undefined;
    this.goneSince = undefined;
    return 0;
  }
}
