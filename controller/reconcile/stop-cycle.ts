import type { Observation, Phase } from './types.js';

/** The phases of one stop, from saving the game to removing its host. */
const STOPPING: ReadonlySet<Phase> = new Set(['stopping', 'powering_off', 'snapshotting', 'destroying']);

/**
 * How long one stop has been going on, across its phases, measured on the loop's monotonic clock.
 * Each phase has its own deadline, but a stop can go round: a host still listed after its removal
 * sends `archived` back to `powering_off`, and a droplet powered on again sends `snapshotting` back.
 * Each lap is within its deadlines, so only the whole stop's length can end the laps (see decide's
 * `stopCycleLimit`). A stop ends when the server is archived with no host left, or leaves for any
 * other phase (a person started it, or it failed).
 */
export class StopCycleClock {
  private since: number | undefined;

  /** Notes this tick's phase and observation; returns how long the stop has lasted, or 0 outside one. */
  note(phase: Phase, observation: Observation, mono: number): number {
    const inStop = STOPPING.has(phase) || (phase === 'archived' && observation.host === 'present');
    if (!inStop) {
      this.since = undefined;
      return 0;
    }
    this.since ??= mono;
    return mono - this.since;
  }
}
