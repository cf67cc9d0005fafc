import { formatDuration } from '../config/duration.js';
import { dueWarning, nextIdleEvent, stopsAt, type IdleSettings } from './idle.js';
import type { Decision, Desired, Observation, Phase, ServerState } from './types.js';

export interface Deadlines {
  provisioning: number;
  booting: number;
  stopping: number;
  poweringOff: number;
  snapshotting: number;
  destroying: number;
}

export interface DecideSettings {
  deadlines: Deadlines;
  idle: IdleSettings;
  /** How many times the game may exit during one boot before the server goes to failed. */
  maxBoots: number;
  /** A running game that answers no probe this long is treated as crashed. */
  hungAfter: number;
  /** The longest retry delay; a retry time further off than this means the clock was set back. */
  maxBackoff: number;
  /** Copies of the world during play and after each stop's save (config `backups`). */
  backups?: { enabled: boolean; every: number };
}

/**
 * A stop's own copy needs at least this much of `deadlines.stopping` left, or it is skipped: a copy
 * cut off by its bound is no copy, and the snapshot decides what is saved anyway.
 */
export const STOP_COPY_MIN_MS = 5_000;

/**
 * When the next copy during play is due: `every` after the last attempt (or after the server became
 * ready), and only once someone has been on since then; null when none is due in this phase.
 */
export function nextCopyAt(s: ServerState, o: Observation, cfg: DecideSettings): number | null {
  if (!cfg.backups?.enabled) return null;
  const played = (o.players?.online ?? 0) > 0 || s.progress.playedSinceCopy === true;
  if (!played) return null;
  return (s.progress.lastCopyAt ?? s.readyAt ?? s.phaseSince) + cfg.backups.every;
}

/**
 * The times decide reads. Deadlines and the hung-game timer run on durations the loop measured with a
 * monotonic clock while it was up and trying, so neither the controller's own downtime (kill -9, a
 * long outage) nor a jump of the wall clock can fire them; idle timers and records use wall time.
 */
export interface Timing {
  now: number;
  /** How long the loop has been trying in this phase since it last saw the phase begin or itself start. */
  inPhase: number;
  /** How long a running game with a live process has answered no status ping; 0 while it answers. */
  silentFor: number;
  /** How long the current stop has gone on across its phases and laps (stop-cycle.ts); 0 outside a stop. */
  inStopCycle?: number;
}

const STOP_PHASES: ReadonlySet<Phase> = new Set(['stopping', 'powering_off', 'snapshotting', 'destroying']);

/**
 * The longest one whole stop may take. Each phase is bounded on its own, but a stop can go round (a host
 * listed again after its removal, a droplet powered on again before its snapshot), and every lap bills;
 * past this, the laps end in `failed` with the host kept. A phase's deadline is checked only before its
 * step, so one healthy pass may last, per phase, its deadline plus a step that itself takes up to twice
 * that deadline (stop_game: save-all, then supervisorctl stop; power_down: shutdown, then power_off;
 * snapshot: the action, then its listing). Anything shorter would fail a slow stop that never went round,
 * right before the destroy its confirmed snapshot allows.
 */
export function stopCycleLimit(d: Deadlines): number {
  return 3 * (d.stopping + 3 * d.poweringOff + d.snapshotting + d.destroying);
}

const act = (step: Extract<Decision, { kind: 'act' }>['step'], reason: string, extra: Omit<Extract<Decision, { kind: 'act' }>, 'kind' | 'step' | 'reason'> = {}): Decision => ({
  kind: 'act',
  step,
  reason,
  ...extra,
});
const move = (to: Phase, reason: string): Decision => ({ kind: 'move', to, reason });
const fail = (reason: string): Decision => ({ kind: 'fail', reason });
const wait = (reason: string, until?: number): Decision => (until === undefined ? { kind: 'wait', reason } : { kind: 'wait', reason, until });

const unprobedFor = (ms: number): string =>
  `could not tell whether the game still runs for ${formatDuration(ms)} (SSH to its host failed and it answered no status ping); ` +
  'the droplet is kept as it is, with the world on it: look at it in the DigitalOcean console, then press Stop again';

/**
 * The phase that matches what is out there, for a server whose record cannot be trusted
 * (a host OoD had not recorded, or a person asking again after a failure).
 */
export function adopt(desired: Desired, o: Observation): Phase {
  if (o.host === 'absent') return 'archived';
  // A game that could not be probed may be running: it is stopped (and saved) before anything else.
  if (o.power === 'unknown') return desired === 'down' ? 'stopping' : 'booting';
  if (o.power === 'on') {
    if (desired === 'down') return 'stopping';
    return o.game === 'answering' ? 'running' : 'booting';
  }
  return desired === 'up' ? 'booting' : 'powering_off';
}

/**
 * One reconcile decision: from the record, what was just observed, the settings and the time,
 * the single next step. Pure: no I/O, no clock, no randomness, so every row of the table is testable.
 */
export function decide(s: ServerState, o: Observation, cfg: DecideSettings, t: Timing): Decision {
  const { now, inPhase } = t;
  const d = cfg.deadlines;
  const { nextAttemptAt, lastError } = s.progress;
  if (nextAttemptAt !== undefined && now < nextAttemptAt && nextAttemptAt - now <= cfg.maxBackoff && s.phase !== 'failed') {
    return wait(`retrying after: ${lastError ?? 'an error'}`, nextAttemptAt);
  }

  const inStopCycle = t.inStopCycle ?? 0;
  const lapping = STOP_PHASES.has(s.phase) || (s.phase === 'archived' && s.desired === 'down');
  if (lapping && o.host === 'present' && inStopCycle > stopCycleLimit(d)) {
    return fail(
      `the stop has gone on for ${formatDuration(inStopCycle)} (longer than all its phases may take together) without its host being removed; ` +
        'the host is kept as it is, with its snapshots: look at it in the DigitalOcean console, then press Stop again',
    );
  }

  switch (s.phase) {
    case 'failed': {
      // Ordered by request count, not time: a wall clock set back must not resume a server on its own.
      const askedAgain = s.progress.requestsAtFailure !== undefined ? s.requests > s.progress.requestsAtFailure : s.desiredAt > s.phaseSince;
      if (askedAgain) return move(adopt(s.desired, o), `${s.desiredBy} asked for ${s.desired} after the failure`);
      return wait(`needs a person: ${s.lastError ?? 'unknown error'}`);
    }

    case 'archived':
      if (o.host === 'present') return move(adopt(s.desired, o), 'found a host that the record did not show');
      if (s.desired === 'up') return move('provisioning', `${s.desiredBy} wants it up`);
      return wait('archived');

    case 'provisioning':
      if (o.host === 'present') return move('booting', 'host is ready');
      if (s.desired === 'down') return move('archived', 'no longer wanted, and no host was made');
      if (inPhase > d.provisioning) return fail(`no host after ${formatDuration(d.provisioning)} of provisioning`);
      return act('provision', 'no host yet', { then: 'booting' });

    case 'booting':
      if (o.host === 'absent') return fail('the host disappeared while booting');
      if (s.desired === 'down') return move(o.power === 'on' ? 'stopping' : 'powering_off', 'no longer wanted');
      // Unknown too: the boot step waits for SSH and asks supervisord itself before starting anything.
      if (o.power !== 'on') {
        const boots = s.progress.boots ?? 0;
        if (boots >= cfg.maxBoots) return fail(`the game exited ${boots} times while booting; see its log`);
        return act('boot', boots === 0 ? 'the game is not running' : 'the game exited while booting; starting it again');
      }
      if (o.game === 'answering') return move('running', 'the game answers');
      if (inPhase > d.booting) return fail(`the game did not answer within ${formatDuration(d.booting)}`);
      return wait('waiting for the game to answer');

    case 'running': {
      if (o.host === 'absent') return fail('the host disappeared while running');
      if (o.power === 'off') {
        return s.desired === 'up'
          ? move('booting', 'the game exited unexpectedly; starting it again')
          : move('powering_off', 'the game exited');
      }
      if (s.desired === 'down') return move('stopping', `${s.desiredBy} wants it down`);
      if (o.game === 'silent' && t.silentFor >= cfg.hungAfter) {
        const why = `the game answered no probe for ${formatDuration(t.silentFor)}; treating it as crashed (the world on disk is as of its last save)`;
        return act('kill_hung', why, { lastError: `The game hung: ${why}` });
      }
      const stopAt = stopsAt(s, cfg.idle);
      if (stopAt !== null && now >= stopAt) return act('idle_stop', s.progress.joined ? 'empty for too long' : 'nobody joined');
      // A copy while people play: bounded by the stopping deadline, so a stop request waits at most that
      // long for it; one that fails is a warning, tried again a period later (lastCopyAt), never a failure.
      const copyAt = o.game === 'answering' ? nextCopyAt(s, o, cfg) : null;
      if (copyAt !== null && now >= copyAt) {
        return act('copy', `a copy of the world is due (every ${formatDuration(cfg.backups!.every)} while people play)`, { giveUp: 'skip', copy: { timeoutMs: d.stopping, live: true } });
      }
      if (stopAt === null) return wait('players online', copyAt ?? undefined);
      const warning = dueWarning(s, stopAt, cfg.idle, now);
      if (warning !== undefined) {
        return act('warn', 'idle stop ahead', {
          warning,
          giveUp: 'skip',
          message: `Nobody is online: this server stops in ${formatDuration(stopAt - now)} to save money. Join (or press keep-alive) to keep it up.`,
        });
      }
      return wait('idle', nextIdleEvent(stopAt, cfg.idle, now));
    }

    case 'stopping':
      if (o.power === 'off') return move('powering_off', 'the game has stopped');
      // Invariant 3: without a probe the game may still run; stopping the droplet now could lose the world.
      if (o.power === 'unknown') {
        if (inPhase > d.stopping) return fail(unprobedFor(d.stopping));
        return wait('could not reach the droplet to save and stop the game; trying again');
      }
      if (inPhase > d.stopping) return move('powering_off', `the game did not stop within ${formatDuration(d.stopping)}; stopping its process`);
      return act('stop_game', 'save the world and stop the game', { then: 'powering_off', giveUp: { to: 'powering_off' } });

    case 'powering_off':
      if (o.power === 'unknown') {
        if (inPhase > 3 * d.poweringOff) return fail(unprobedFor(inPhase));
        return wait('could not reach the droplet to see whether the game has exited');
      }
      if (o.power === 'off') {
        if (o.machine === 'on' && cfg.backups?.enabled && !s.progress.stopCopied) {
          // The stop's copy, of the world as the game's final save left it; it never delays the stop past
          // deadlines.stopping (counted from the stop's start), and the snapshot still decides what is saved.
          const left = d.stopping - inStopCycle;
          if (left >= STOP_COPY_MIN_MS) return act('copy', "the game has saved and exited; copying the world before the machine is shut down", { giveUp: 'skip', copy: { timeoutMs: left, live: false } });
          return act('power_down', `the game has exited; shutting the machine down for a consistent snapshot (the stop's copy was skipped: only ${formatDuration(Math.max(0, left))} of deadlines.stopping was left)`);
        }
        if (o.machine === 'on') return act('power_down', 'the game has exited; shutting the machine down for a consistent snapshot');
        return move('snapshotting', o.machine === 'off' ? 'the game has exited and the machine is off' : 'the game has exited');
      }
      if (inPhase > 3 * d.poweringOff) return fail(`the game still runs ${formatDuration(inPhase)} after it was asked to stop and killed`);
      if (inPhase > 2 * d.poweringOff && !s.progress.killed) return act('kill', 'the game ignored SIGTERM');
      if (inPhase > d.poweringOff && !s.progress.terminated) return act('terminate', 'the game has not exited');
      return wait('waiting for the game to exit', now + (s.progress.terminated ? 2 : 1) * d.poweringOff - inPhase + 1);

    case 'snapshotting':
      if (o.host === 'absent') return fail('the host disappeared before it was archived');
      if (o.power === 'on') return fail('the game is running again; not archiving a live world');
      if (o.machine === 'on') return move('powering_off', 'the machine is on again; shutting it down before the snapshot');
      if (inPhase > d.snapshotting) return fail(`the archive did not complete within ${formatDuration(d.snapshotting)}`);
      return act('snapshot', 'the game has stopped and saved', { then: 'destroying' });

    case 'destroying':
      if (o.power === 'on') return fail('the game is running again; not destroying its host');
      // Powered on after its snapshot, the machine may have changed since: that snapshot no longer speaks for it.
      if (o.machine === 'on') return fail('the machine was powered on after its snapshot; not destroying it');
      if (inPhase > d.destroying) return fail(`the host was not removed within ${formatDuration(d.destroying)}`);
      return act('destroy', 'the archive is confirmed', { then: 'archived' });
  }
}
