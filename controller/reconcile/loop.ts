import { dirname } from 'node:path';
import type { Failpoints } from '../config/env.js';
import type { Config, ServerConfig } from '../config/schema.js';
import type { Driver } from '../drivers/driver.js';
import { formatDuration } from '../config/duration.js';
import { isRetryable, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { asDiskError } from '../store/disk-errors.js';
import type { Store } from '../store/store.js';
import { StopCycleClock } from './stop-cycle.js';
import { decide, type DecideSettings, type Timing } from './decide.js';
import { stopsAt, trackPresence } from './idle.js';
import type { RunnerEvents } from './runner-events.js';
import type { Decision, Observation, Phase, Progress, ServerState } from './types.js';

export interface ServerView {
  state: ServerState;
  observation: Observation | null;
  stopsAt: number | null;
  /** Ticks failing in a row right now (observe threw: the cloud unreachable, a refused token), else null. */
  tickError?: TickError | null;
}

/** A run of failing ticks: the server's news until a tick gets through again. Replaced, never changed. */
export interface TickError {
  message: string;
  /** When the run began and when its last failure was (the controller's clock). */
  since: number;
  lastAt: number;
  failures: number;
}

/** Everything a runner needs, passed in so tests can give it a clock or a fake driver. */
export interface RunnerDeps {
  store: Store;
  driver: Driver;
  server: ServerConfig;
  reconcile: Config['reconcile'];
  log: Logger;
  clock: () => number;
  /** A clock that never jumps (default: performance.now), for deadlines and the hung-game timer. */
  monotonic?: () => number;
  failpoints?: Failpoints;
  /** Called after every tick: what the runner shows may have changed (live pages compare and send). */
  onTick?: () => void;
  /** Phase changes and presence, inside their transactions (the cost meter, notifications). */
  events?: RunnerEvents;
}

const MAX_BOOTS = 3;

/** At most one run of failed checks a server's journal tells in this time (see noteTickError). */
const JOURNAL_RUNS_EVERY = 10 * 60_000;

/** Who a stop of the idle policy is recorded as. */
const IDLE_POLICY = 'idle policy';

/**
 * The reconcile loop of one server: observe → decide → act (one idempotent step) → journal, then
 * sleep until there is more to do. Servers each have their own runner, so a slow archive of one
 * never holds up another. Ticks chain at once after a change, poll fast in transitions, slow when steady.
 */
export class ServerRunner {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastObservation: Observation | null = null;
  /** Whether the host existed at the last observation: the cost meter is told when that changes. */
  private lastHost: Observation['host'] | undefined;
  /** Who the last successful probe saw online, to record sightings only on change. */
  private seen: ReadonlySet<string> = new Set();
  private readonly settings: DecideSettings;
  private readonly monotonic: () => number;
  /** The phase this runner is trying, and since when by the monotonic clock (its own start, at the latest). */
  private trying: { phase: Phase; since: number; at: number } | undefined;
  /** Since when (monotonic) a running game's process is up but it answers no probe. */
  private silentSince: number | undefined;
  /** How long the current stop has gone on, laps included. */
  private readonly stopCycle = new StopCycleClock();
  private lastAlarm = -Infinity;
  private tickError: TickError | null = null;
  /** Whether the current run of failures has a journal row (its recovery gets one only then). */
  private runJournaled = false;
  /** When the last run of failures was journaled, and failed checks in runs since that were not. */
  private lastRunRow = -Infinity;
  private unjournaledFailures = 0;

  constructor(private readonly deps: RunnerDeps) {
    this.settings = {
      deadlines: deps.server.deadlines,
      idle: deps.server.idle,
      maxBoots: MAX_BOOTS,
      hungAfter: deps.server.game.hungAfter,
      maxBackoff: deps.reconcile.maxBackoff,
      backups: { enabled: deps.server.backups.enabled, every: deps.server.backups.every },
    };
    this.monotonic = deps.monotonic ?? (() => performance.now());
  }

  get id(): string {
    return this.deps.server.id;
  }

  start(): void {
    this.poke();
  }

  /** Tick as soon as possible (a request changed what is wanted). Pokes during a tick coalesce into one more. */
  poke(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.ticking = this.runTick().finally(() => {
      this.ticking = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
  }

  /** What the API shows: the stored state (read now, unless the caller read every server's at once) and the last observation. */
  view(state: ServerState = this.deps.store.servers.get(this.id)!): ServerView {
    return { state, observation: this.lastObservation, stopsAt: state.phase === 'running' ? stopsAt(state, this.settings.idle) : null, tickError: this.tickError };
  }

  private async runTick(): Promise<void> {
    let delay: number;
    try {
      delay = await this.tick();
      if (this.tickError) this.noteTickRecovered(this.tickError);
    } catch (err) {
      const disk = asDiskError(err, { database: this.deps.store.db.name, dataDir: dirname(this.deps.store.db.name) });
      this.deps.log.error({ err: messageOf(err) }, disk ? `Reconcile tick failed: ${disk.message}` : 'Reconcile tick failed; trying again');
      this.noteTickError(disk ? disk.message : messageOf(err));
      delay = this.deps.reconcile.slowTick;
    }
    this.deps.onTick?.();
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      delay = 0;
    }
    this.timer = setTimeout(() => this.poke(), delay);
  }

  /**
   * A failing tick is the server's news, not only a log line: the view carries it (API, card, status,
   * `--wait`), and the journal gets one row when a run of failures begins, not one per tick.
   */
  private noteTickError(message: string): void {
    const now = this.deps.clock();
    const run = this.tickError;
    this.tickError = { message, since: run?.since ?? now, lastAt: now, failures: (run?.failures ?? 0) + 1 };
    if (run) {
      if (!this.runJournaled) this.unjournaledFailures++;
      return;
    }
    // A check that fails every other tick (a flaky network, a rate limit) starts a run each time: at
    // most one run a JOURNAL_RUNS_EVERY gets rows, the others are counted into the next one that does,
    // so the journal (never pruned) grows with time, not with ticks. The view shows every run.
    if (now - this.lastRunRow < JOURNAL_RUNS_EVERY) {
      this.runJournaled = false;
      this.unjournaledFailures++;
      return;
    }
    const brief = this.unjournaledFailures;
    this.runJournaled = true;
    this.lastRunRow = now;
    this.unjournaledFailures = 0;
    const also = brief > 0 ? ` (and ${brief} failed check${brief === 1 ? '' : 's'} in brief runs since the last such row)` : '';
    this.journalCheck((phase) => {
      const { journal } = this.deps.store;
      journal.outcome(journal.intent(this.id, phase, 'observe', `Could not check on ${this.id}; trying again every ${formatDuration(this.deps.reconcile.slowTick)}${also}`, now), 'error', now, message);
    });
  }

  private noteTickRecovered(run: TickError): void {
    this.tickError = null;
    const now = this.deps.clock();
    const n = run.failures;
    if (!this.runJournaled) return;
    this.runJournaled = false;
    this.journalCheck((phase) => this.deps.store.journal.record(this.id, phase, 'observe', `Checked on ${this.id} again after ${n} failed check${n === 1 ? '' : 's'} over ${formatDuration(now - run.since)}`, now));
    this.deps.log.info({ failures: n }, `Checked on ${this.id} again after ${n} failed check${n === 1 ? '' : 's'}`);
  }

  /** A journal row about the checks; the store may be what fails (a full disk), and then the log says so. */
  private journalCheck(write: (phase: Phase) => void): void {
    try {
      write(this.deps.store.servers.get(this.id)!.phase);
    } catch (err) {
      this.deps.log.error({ err: messageOf(err) }, 'Could not journal the state of the checks');
    }
  }

  /** One tick; returns how long to sleep before the next. */
  async tick(): Promise<number> {
    const { store, driver, clock, reconcile } = this.deps;
    const observation = await driver.observe();
    this.lastObservation = observation;
    await this.resumeSaving(observation);
    let state = store.servers.get(this.id)!;
    const now = clock();
    if (observation.host !== this.lastHost) {
      // A host bills while it exists, whatever the phase (a failed create made none; a failed stop keeps one).
      const present = observation.host === 'present';
      store.db.transaction(() => this.deps.events?.host?.({ server: this.id, present, at: now }))();
      this.lastHost = observation.host;
    }
    if (state.phase === 'running') state = this.notePresence(state, observation, now);
    const timing = this.timing(state, observation, now);
    if (state.phase === 'failed' && observation.power === 'on') this.alarm(state, timing.now);

    const decision = decide(state, observation, this.settings, timing);
    switch (decision.kind) {
      case 'wait': {
        const poll = state.phase === 'running' ? reconcile.playerProbe : STEADY.has(state.phase) ? reconcile.slowTick : reconcile.fastTick;
        return Math.max(0, Math.min(poll, decision.until !== undefined ? decision.until - now : poll));
      }
      case 'move':
        this.move(state, decision.to, decision.reason, now);
        return 0;
      case 'fail':
        this.move(state, 'failed', decision.reason, now);
        return 0;
      case 'act':
        await this.act(state, decision);
        return 0;
    }
  }

  /** Time in phase and time silent, measured only while this runner was up (see decide's Timing). */
  private timing(state: ServerState, observation: Observation, now: number): Timing {
    const mono = this.monotonic();
    if (!this.trying || this.trying.phase !== state.phase || this.trying.since !== state.phaseSince) {
      this.trying = { phase: state.phase, since: state.phaseSince, at: mono };
    }
    const silent = state.phase === 'running' && observation.power !== 'off' && observation.game === 'silent';
    if (!silent) this.silentSince = undefined;
    else this.silentSince ??= mono;
    return {
      now,
      inPhase: mono - this.trying.at,
      silentFor: this.silentSince === undefined ? 0 : mono - this.silentSince,
      inStopCycle: this.stopCycle.note(state.phase, observation, mono),
    };
  }

  /** A failed server whose game still runs is not watched for idleness, and on a cloud it bills: say so, often. */
  private alarm(state: ServerState, now: number): void {
    if (now - this.lastAlarm < ALARM_EVERY) return;
    this.lastAlarm = now;
    this.deps.log.error({ lastError: state.lastError }, 'Failed with the game still running; it needs a person (start or stop it)');
  }

  private notePresence(state: ServerState, observation: Observation, now: number): ServerState {
    const { emptySince, joined } = trackPresence(state, observation, now);
    const { store } = this.deps;
    let progress = joined === (state.progress.joined ?? false) ? state.progress : { ...state.progress, joined };
    // Someone on since the last copy: the next one is worth taking (decide's nextCopyAt).
    if (this.settings.backups?.enabled && (observation.players?.online ?? 0) > 0 && !progress.playedSinceCopy) progress = { ...progress, playedSinceCopy: true };
    // Sightings are written when someone joins or leaves, not on every probe: a write per second per
    // server would be an fsync per second for nothing. A leaver's last_seen is when the leave was noticed.
    const names = observation.players ? new Set(observation.players.names) : this.seen;
    const changed = [...names].filter((n) => !this.seen.has(n)).concat([...this.seen].filter((n) => !names.has(n)));
    this.seen = names;
    if (changed.length > 0 || emptySince !== state.emptySince || progress !== state.progress) {
      const events = this.deps.events;
      store.db.transaction(() => {
        if (changed.length > 0) store.sightings.saw(this.id, changed, now);
        if (emptySince !== state.emptySince) store.servers.setIdle(this.id, emptySince);
        if (progress !== state.progress) store.servers.setProgress(this.id, state.phase, progress);
        if (changed.length > 0) events?.presence?.({ server: this.id, online: [...names], at: now });
        if (emptySince !== null && state.emptySince === null) {
          events?.emptied?.({ server: this.id, at: now, stopsAt: stopsAt({ ...state, emptySince, progress }, this.settings.idle), afterPlay: progress.joined === true });
        }
      })();
    }
    return { ...state, emptySince, progress };
  }

  private move(state: ServerState, to: Phase, reason: string, now: number): void {
    const { store, driver, log } = this.deps;
    const change =
      to === 'running'
        ? { readyAt: now, emptySince: null, keepAliveUntil: null, lastError: null }
        : to === 'booting'
          ? { address: driver.address() }
          : to === 'archived'
            ? { address: null, readyAt: null, emptySince: null, lastError: null }
            : {};
    // The phase and its journal row change together, or not at all.
    store.db.transaction(() => {
      if (to === 'failed') {
        // Counted inside the transaction: a request that came in during the failing step is not "after" it.
        const requests = store.servers.get(this.id)!.requests;
        Object.assign(change, { lastError: reason, progress: { requestsAtFailure: requests } });
      }
      store.servers.move(this.id, state.phase, to, now, change);
      store.journal.record(this.id, to, 'phase', `${state.phase} → ${to}: ${reason}`, now);
      const address = 'address' in change ? (change.address as string | null) : state.address;
      this.deps.events?.moved?.({ server: this.id, from: state.phase, to, reason, at: now, address });
    })();
    log[to === 'failed' ? 'error' : 'info']({ from: state.phase, to, reason }, `Moved to ${to}`);
  }

  private async act(state: ServerState, decision: Extract<Decision, { kind: 'act' }>): Promise<void> {
    const { store, clock, log, reconcile } = this.deps;
    let progress: Progress = this.beforeStep(state, decision, clock());
    // What decide must know even if this process dies during the step is written with its intent.
    const entry = store.db.transaction(() => {
      if (progress !== state.progress) store.servers.setProgress(this.id, state.phase, progress);
      return store.journal.intent(this.id, state.phase, decision.step, decision.reason, clock());
    })();
    log.info({ step: decision.step, reason: decision.reason }, `Started step ${decision.step}`);
    progress = { ...progress };
    try {
      const failpoint = this.deps.failpoints?.get(decision.step);
      if (failpoint?.before) await sleep(failpoint.before);
      const detail = await this.runStep(state, decision);
      if (failpoint?.after) await sleep(failpoint.after);
      log.info({ step: decision.step, detail }, `Finished step ${decision.step}`);
      delete progress.attempts;
      delete progress.nextAttemptAt;
      delete progress.lastError;
      progress = this.afterStep(state, decision, progress);
      // The outcome and what follows from it are one write: a crash never leaves one without the other.
      store.db.transaction(() => {
        store.journal.outcome(entry, 'ok', clock(), null, detail);
        if (decision.lastError) store.servers.setLastError(this.id, decision.lastError);
        if (decision.then) this.move(state, decision.then, `${decision.step} done`, clock());
        else store.servers.setProgress(this.id, state.phase, progress);
      })();
    } catch (err) {
      const message = messageOf(err);
      const now = clock();
      const attempts = (progress.attempts ?? 0) + 1;
      const onGiveUp = decision.giveUp ?? 'fail';
      // A step that may be skipped is never retried: a warning late is worse than none.
      const giveUp = onGiveUp === 'skip' || !isRetryable(err) || attempts >= reconcile.maxAttempts;
      const backoff = Math.min(reconcile.maxBackoff, reconcile.backoff * 2 ** (attempts - 1));
      if (!giveUp) log.warn({ step: decision.step, err: message, attempts, backoff }, `Step ${decision.step} failed; retrying`);
      const why = isRetryable(err) ? `after ${attempts} attempt${attempts === 1 ? '' : 's'}` : 'and it cannot be retried';
      store.db.transaction(() => {
        store.journal.outcome(entry, 'error', now, message);
        if (giveUp && onGiveUp === 'skip') {
          log.warn({ step: decision.step, err: message }, `Skipped step ${decision.step}`);
          store.journal.record(this.id, state.phase, 'skipped', `Skipped ${decision.step} (${why}): ${message}`, now);
          store.servers.setProgress(this.id, state.phase, this.afterStep(state, decision, progress, message));
        } else if (giveUp && onGiveUp !== 'fail') {
          this.move(state, onGiveUp.to, `${decision.step} failed ${why} (${message}); going on to ${onGiveUp.to}`, now);
        } else if (giveUp) {
          this.move(state, 'failed', `${decision.step} failed ${why}: ${message}`, now);
        } else {
          store.servers.setProgress(this.id, state.phase, { ...progress, attempts, nextAttemptAt: now + backoff, lastError: message });
          store.servers.setLastError(this.id, message);
        }
      })();
    }
  }

  private async runStep(state: ServerState, decision: Extract<Decision, { kind: 'act' }>): Promise<string> {
    const { driver, store, clock } = this.deps;
    switch (decision.step) {
      case 'provision':
        return driver.provision({ why: `start by ${state.desiredBy}` });
      case 'boot':
        return driver.boot();
      case 'warn':
        await driver.say(decision.message ?? 'This server stops soon.');
        return `Warned in chat: ${decision.message ?? ''}`;
      case 'idle_stop':
        store.servers.setDesired(this.id, 'down', IDLE_POLICY, clock());
        return `Wanted down by the idle policy: ${decision.reason}`;
      case 'stop_game':
        return driver.stopGame(`${state.desiredBy} asked`);
      case 'terminate':
        return driver.terminate();
      case 'kill':
      case 'kill_hung':
        return driver.kill();
      case 'power_down':
        return driver.powerDown();
      case 'snapshot':
        return driver.snapshot();
      case 'destroy':
        return driver.destroy({ why: this.stopReason(state) });
      case 'copy':
        return driver.copyWorld({ ...decision.copy!, keep: this.deps.server.backups.keep });
    }
  }

  /**
   * Turns saving back on where a copy turned it off and never saw it on again (the controller died
   * during the copy, or save-on went unanswered): on every tick until the game confirms, journaled.
   */
  private async resumeSaving(observation: Observation): Promise<void> {
    try {
      const done = await this.deps.driver.resumeSaving(observation);
      if (!done) return;
      this.deps.log.warn({ detail: done }, 'Turned saving back on after a copy');
      this.journalCheck((phase) => this.deps.store.journal.record(this.id, phase, 'copy', done, this.deps.clock()));
    } catch (err) {
      this.deps.log.warn({ err: messageOf(err) }, 'Could not turn saving back on after a copy; trying again next tick');
    }
  }

  /** Phase-scoped bookkeeping written with the step's intent, before it runs. */
  private beforeStep(state: ServerState, decision: Extract<Decision, { kind: 'act' }>, now: number): Progress {
    if (decision.step !== 'copy') return state.progress;
    // The attempt counts from its start: a copy that takes the controller down is not tried again at
    // once on restart, and players seen during it count towards the next one.
    return { ...state.progress, copyingSince: now, ...(decision.copy?.live ? { lastCopyAt: now, playedSinceCopy: false } : {}) };
  }

  /** Why the host goes away, as an operator reads it in `pulumi stack history`. */
  private stopReason(state: ServerState): string {
    if (state.desired === 'up') return `stop after a failure (${state.desiredBy} wants it up again)`;
    if (state.desiredBy === IDLE_POLICY) return `idle ${formatDuration(this.deps.server.idle.emptyAfter)}`;
    return `stop by ${state.desiredBy}`;
  }

  /** Phase-scoped bookkeeping that decide reads on later ticks. */
  private afterStep(state: ServerState, decision: Extract<Decision, { kind: 'act' }>, progress: Progress, failure?: string): Progress {
    switch (decision.step) {
      case 'copy': {
        // A failed copy is a warning until one succeeds; the stop's copy is tried once either way.
        const next: Progress = { ...progress, ...(decision.copy?.live ? {} : { stopCopied: true }) };
        delete next.copyingSince;
        delete next.copyWarning;
        if (failure !== undefined) next.copyWarning = failure;
        return next;
      }
      case 'boot':
        return { ...progress, boots: (progress.boots ?? 0) + 1 };
      case 'warn': {
        const stopAt = stopsAt(state, this.settings.idle)!;
        const warned = progress.warnedFor === stopAt ? (progress.warned ?? []) : [];
        return { ...progress, warnedFor: stopAt, warned: [...warned, decision.warning!] };
      }
      case 'terminate':
        return { ...progress, terminated: true };
      case 'kill':
        return { ...progress, killed: true };
      default:
        return progress;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const STEADY: ReadonlySet<Phase> = new Set(['archived', 'failed']);

const ALARM_EVERY = 60_000;
