import { describe, expect, it } from 'vitest';
import { adopt, decide, type DecideSettings, type Timing } from './decide.js';
import type { Observation, ServerState } from './types.js';

const S = 1_000;
const settings: DecideSettings = {
  deadlines: { provisioning: 600 * S, booting: 300 * S, stopping: 120 * S, poweringOff: 60 * S, snapshotting: 1800 * S, destroying: 300 * S },
  idle: { emptyAfter: 900 * S, neverJoined: 600 * S, warnings: [60 * S, 10 * S], keepAlive: 1800 * S },
  maxBoots: 3,
  hungAfter: 600 * S,
  maxBackoff: 60 * S,
};
const NOW = 10_000_000;

const state = (over: Partial<ServerState> = {}): ServerState => ({
  id: 'world',
  desired: 'down',
  desiredAt: NOW - 100 * S,
  desiredBy: 'test',
  requests: 1,
  phase: 'archived',
  phaseSince: NOW - 10 * S,
  address: null,
  lastError: null,
  readyAt: null,
  emptySince: null,
  keepAliveUntil: null,
  progress: {},
  ...over,
});
const none: Observation = { host: 'absent', power: 'off', game: 'silent', players: null };
const up: Observation = { host: 'present', power: 'on', game: 'answering', players: { online: 1, max: 20, names: ['ann'] } };
const empty: Observation = { ...up, players: { online: 0, max: 20, names: [] } };
const stopped: Observation = { host: 'present', power: 'off', game: 'silent', players: null };
const starting: Observation = { host: 'present', power: 'on', game: 'silent', players: null };
// A droplet: the machine's power apart from the game's process.
const dropletOnGameStopped: Observation = { ...stopped, machine: 'on' };
const dropletOff: Observation = { ...stopped, machine: 'off' };
const dropletUp: Observation = { ...up, machine: 'on' };
/** A droplet that is on, but neither SSH nor the status ping reached the game. */
const unprobed: Observation = { host: 'present', machine: 'on', power: 'unknown', game: 'silent', players: null };

/** Time in phase defaults to phaseSince's age; a row may give what the loop measured instead. */
type Row = [name: string, s: Partial<ServerState>, o: Observation, expected: Record<string, unknown>, timing?: Partial<Timing>];

const table: Row[] = [
  ['archived and wanted down waits', {}, none, { kind: 'wait' }],
  ['archived and wanted up provisions', { desired: 'up' }, none, { kind: 'move', to: 'provisioning' }],
  ['archived but a running host exists is adopted, not duplicated', { desired: 'up' }, up, { kind: 'move', to: 'running' }],
  ['archived but a stopped host exists and is wanted down is archived first', {}, stopped, { kind: 'move', to: 'powering_off' }],
  ['provisioning without a host restores one', { phase: 'provisioning', desired: 'up' }, none, { kind: 'act', step: 'provision', then: 'booting' }],
  ['provisioning with a host moves on (crash after restore)', { phase: 'provisioning', desired: 'up' }, stopped, { kind: 'move', to: 'booting' }],
  ['provisioning cancelled before a host exists', { phase: 'provisioning' }, none, { kind: 'move', to: 'archived' }],
  ['provisioning past its deadline fails', { phase: 'provisioning', desired: 'up', phaseSince: NOW - 601 * S }, none, { kind: 'fail' }],
  ['booting starts the game', { phase: 'booting', desired: 'up' }, stopped, { kind: 'act', step: 'boot' }],
  ['booting gives up after the game exits maxBoots times', { phase: 'booting', desired: 'up', progress: { boots: 3 } }, stopped, { kind: 'fail' }],
  ['booting waits for the game to answer', { phase: 'booting', desired: 'up' }, starting, { kind: 'wait' }],
  ['booting is running once the game answers', { phase: 'booting', desired: 'up' }, up, { kind: 'move', to: 'running' }],
  ['booting past its deadline fails and keeps the host', { phase: 'booting', desired: 'up', phaseSince: NOW - 301 * S }, starting, { kind: 'fail' }],
  ['booting, then unwanted, stops the game', { phase: 'booting' }, starting, { kind: 'move', to: 'stopping' }],
  ['booting, host gone, fails', { phase: 'booting', desired: 'up' }, none, { kind: 'fail' }],
  ['running with players waits', { phase: 'running', desired: 'up', readyAt: NOW - 5000 * S }, up, { kind: 'wait' }],
  ['running wanted down stops', { phase: 'running' }, up, { kind: 'move', to: 'stopping' }],
  ['running whose game exited restarts it', { phase: 'running', desired: 'up' }, stopped, { kind: 'move', to: 'booting' }],
  ['running, never joined, stops after neverJoined', { phase: 'running', desired: 'up', readyAt: NOW - 600 * S, emptySince: NOW - 600 * S }, empty, { kind: 'act', step: 'idle_stop' }],
  ['running, never joined, not yet due waits', { phase: 'running', desired: 'up', readyAt: NOW - 100 * S, emptySince: NOW - 100 * S }, empty, { kind: 'wait', until: NOW + 440 * S }],
  ['running, emptied, stops after emptyAfter', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S, emptySince: NOW - 900 * S, progress: { joined: true } }, empty, { kind: 'act', step: 'idle_stop' }],
  ['running, emptied, keep-alive holds it up', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S, emptySince: NOW - 900 * S, keepAliveUntil: NOW + 5 * S, progress: { joined: true } }, empty, { kind: 'act', step: 'warn' }],
  ['running, first warning due', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S, emptySince: NOW - 850 * S, progress: { joined: true } }, empty, { kind: 'act', step: 'warn' }],
  ['running, warning already sent waits for the next', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S, emptySince: NOW - 850 * S, progress: { joined: true, warned: [60 * S], warnedFor: NOW + 50 * S } }, empty, { kind: 'wait', until: NOW + 40 * S }],
  ['running, probe failed, counts as present', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S, emptySince: null, progress: { joined: true } }, { ...up, players: null }, { kind: 'wait' }],
  ['stopping asks the game to save and stop', { phase: 'stopping' }, up, { kind: 'act', step: 'stop_game', then: 'powering_off' }],
  ['stopping past its deadline stops the process', { phase: 'stopping', phaseSince: NOW - 121 * S }, up, { kind: 'move', to: 'powering_off' }],
  ['stopping whose game exited moves on', { phase: 'stopping' }, stopped, { kind: 'move', to: 'powering_off' }],
  ['powering_off waits for the exit', { phase: 'powering_off' }, starting, { kind: 'wait' }],
  ['powering_off sends SIGTERM after its deadline', { phase: 'powering_off', phaseSince: NOW - 61 * S }, starting, { kind: 'act', step: 'terminate' }],
  ['powering_off sends SIGKILL after twice its deadline', { phase: 'powering_off', phaseSince: NOW - 121 * S, progress: { terminated: true } }, starting, { kind: 'act', step: 'kill' }],
  ['powering_off fails when even SIGKILL did not help', { phase: 'powering_off', phaseSince: NOW - 181 * S, progress: { terminated: true, killed: true } }, starting, { kind: 'fail' }],
  ['powering_off snapshots once the game exited', { phase: 'powering_off' }, stopped, { kind: 'move', to: 'snapshotting' }],
  ['snapshotting archives a stopped host', { phase: 'snapshotting' }, stopped, { kind: 'act', step: 'snapshot', then: 'destroying' }],
  ['snapshotting never archives a live game', { phase: 'snapshotting' }, up, { kind: 'fail' }],
  ['snapshotting fails when the host vanished', { phase: 'snapshotting' }, none, { kind: 'fail' }],
  ['destroying removes the host', { phase: 'destroying' }, stopped, { kind: 'act', step: 'destroy', then: 'archived' }],
  ['destroying never removes a live game', { phase: 'destroying' }, up, { kind: 'fail' }],
  ['destroying finishes when the host is already gone (crash after removal)', { phase: 'destroying' }, none, { kind: 'act', step: 'destroy', then: 'archived' }],
  ['failed waits for a person', { phase: 'failed', lastError: 'boom' }, stopped, { kind: 'wait' }],
  ['failed, asked again, resumes from the world', { phase: 'failed', desired: 'up', desiredAt: NOW }, up, { kind: 'move', to: 'running' }],
  ['backing off after an error waits', { phase: 'provisioning', desired: 'up', progress: { nextAttemptAt: NOW + S, attempts: 1 } }, none, { kind: 'wait', until: NOW + S }],
  // Deadlines count time spent trying, not the controller's downtime (kill -9, then a long outage).
  ['destroying long ago, but just restarted, retries the idempotent step', { phase: 'destroying', phaseSince: NOW - 3600 * S }, stopped, { kind: 'act', step: 'destroy' }, { inPhase: 0 }],
  ['provisioning long ago, but just restarted, retries', { phase: 'provisioning', desired: 'up', phaseSince: NOW - 3600 * S }, none, { kind: 'act', step: 'provision' }, { inPhase: 2 * S }],
  ['snapshotting long ago, but just restarted, retries', { phase: 'snapshotting', phaseSince: NOW - 7200 * S }, stopped, { kind: 'act', step: 'snapshot' }, { inPhase: 0 }],
  ['destroying past its deadline of trying fails', { phase: 'destroying' }, stopped, { kind: 'fail' }, { inPhase: 301 * S }],
  // A clock set forward does not fire kills; one set back does not hold a retry for hours.
  ['powering_off with the wall clock jumped ahead waits for the real deadline', { phase: 'powering_off', phaseSince: NOW - 3600 * S }, starting, { kind: 'wait', until: NOW + 50 * S + 1 }, { inPhase: 10 * S }],
  ['a retry time far beyond maxBackoff (clock set back) is due now', { phase: 'provisioning', desired: 'up', progress: { nextAttemptAt: NOW + 3600 * S, attempts: 1 } }, none, { kind: 'act', step: 'provision' }, { inPhase: 0 }],
  ['failed, a clock set back makes no request look newer: waits', { phase: 'failed', desired: 'up', desiredAt: NOW, phaseSince: NOW - 3600 * S, requests: 4, progress: { requestsAtFailure: 4 } }, up, { kind: 'wait' }],
  ['failed, a request counted after the failure resumes, whatever the clock says', { phase: 'failed', desired: 'up', desiredAt: NOW - 7200 * S, requests: 5, progress: { requestsAtFailure: 4 } }, up, { kind: 'move', to: 'running' }],
  // A hung game (process up, no answer) is treated as crashed after hungAfter.
  ['running, game silent for hungAfter, is killed as hung', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S }, starting, { kind: 'act', step: 'kill_hung', lastError: expect.stringMatching(/^The game hung: the game answered no probe for 10m;/) as unknown }, { silentFor: 600 * S }],
  ['running, game silent for less, waits (counts as players present)', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S }, starting, { kind: 'wait' }, { silentFor: 599 * S }],
  // Only steps that protect data send a server to failed.
  ['an idle warning may be skipped when it cannot be sent', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S, emptySince: NOW - 850 * S, progress: { joined: true } }, empty, { kind: 'act', step: 'warn', giveUp: 'skip' }],
  ['a save that never comes goes on to stopping the process', { phase: 'stopping' }, up, { kind: 'act', step: 'stop_game', giveUp: { to: 'powering_off' } }],
  // Drivers whose host is a machine (DigitalOcean): it is shut down between the game's exit and the snapshot.
  ['powering_off with the game stopped shuts the droplet down', { phase: 'powering_off' }, dropletOnGameStopped, { kind: 'act', step: 'power_down' }],
  ['powering_off with the droplet off snapshots', { phase: 'powering_off' }, dropletOff, { kind: 'move', to: 'snapshotting' }],
  ['powering_off with the game still running waits for it, not for the droplet', { phase: 'powering_off' }, { ...starting, machine: 'on' }, { kind: 'wait' }],
  ['snapshotting a droplet that is on again shuts it down first', { phase: 'snapshotting' }, dropletOnGameStopped, { kind: 'move', to: 'powering_off' }],
  ['snapshotting a powered-off droplet', { phase: 'snapshotting' }, dropletOff, { kind: 'act', step: 'snapshot', then: 'destroying' }],
  ['destroying a droplet powered on after its snapshot fails and keeps it', { phase: 'destroying' }, dropletOnGameStopped, { kind: 'fail' }],
  ['destroying a powered-off droplet', { phase: 'destroying' }, dropletOff, { kind: 'act', step: 'destroy', then: 'archived' }],
  ['booting a powered-off droplet boots it (the step powers it on)', { phase: 'booting', desired: 'up' }, dropletOff, { kind: 'act', step: 'boot' }],
  ['running on a droplet whose game exited, wanted down, goes to powering_off', { phase: 'running' }, dropletOnGameStopped, { kind: 'move', to: 'powering_off' }],
  ['archived, a droplet found running is adopted', { desired: 'up' }, dropletUp, { kind: 'move', to: 'running' }],
  // A probe that failed (SSH down, no status ping) tells nothing: the game may run, so it counts as present.
  ['stopping, the game cannot be probed, waits rather than powering off', { phase: 'stopping' }, unprobed, { kind: 'wait' }],
  ['stopping, the game cannot be probed past the deadline, fails and keeps the droplet', { phase: 'stopping' }, unprobed, { kind: 'fail', reason: expect.stringMatching(/could not tell whether the game still runs.*droplet is kept/) as unknown }, { inPhase: 121 * S }],
  ['stopping long ago but just restarted, unprobed, waits (only time spent trying counts)', { phase: 'stopping', phaseSince: NOW - 3600 * S }, unprobed, { kind: 'wait' }, { inPhase: 0 }],
  ['powering_off, the game cannot be probed, does not shut the droplet down', { phase: 'powering_off' }, unprobed, { kind: 'wait' }],
  ['powering_off, unprobed past its deadlines, fails and keeps the droplet', { phase: 'powering_off' }, unprobed, { kind: 'fail', reason: expect.stringMatching(/could not tell whether the game still runs/) as unknown }, { inPhase: 181 * S }],
  ['running, the game cannot be probed, wanted up, waits (players count as present)', { phase: 'running', desired: 'up', readyAt: NOW - 9000 * S }, unprobed, { kind: 'wait' }],
  ['running, unprobed, wanted down, goes to stopping (not powering_off)', { phase: 'running' }, unprobed, { kind: 'move', to: 'stopping' }],
  // A stop that goes round (a host listed again after its removal was confirmed) ends at the whole stop's deadline.
  ['archived, a host listed again during a stop that went on too long, fails and keeps it', {}, dropletOff, { kind: 'fail', reason: expect.stringMatching(/stop has gone on for 2h1m .*without its host being removed/) as unknown }, { inStopCycle: 7260 * S }],
  ['archived, a host listed again within the whole stop\'s deadline, goes round once more', {}, dropletOff, { kind: 'move', to: 'powering_off' }, { inStopCycle: 3660 * S }],
  ['powering_off within its own deadline, but in a stop that went round too long, fails', { phase: 'powering_off' }, dropletOnGameStopped, { kind: 'fail' }, { inPhase: S, inStopCycle: 7260 * S }],
  // A healthy stop that never went round: every phase started its step just before its deadline, and the step
  // took as long as its own bounds allow (stop_game: save-all, then supervisorctl stop; power_down: shutdown,
  // then power_off; snapshot: the action for the whole deadline, then up to 5 min for its listing).
  ['destroying at the end of a slow stop that never went round (each step within its own bounds), destroys', { phase: 'destroying' }, dropletOff, { kind: 'act', step: 'destroy' }, { inPhase: S, inStopCycle: (3 * 120 + 5 * 60 + 2 * 1800 + 300) * S }],
  ['archived and wanted up, a host found long into a stop, is adopted (a person asked for it)', { desired: 'up' }, dropletUp, { kind: 'move', to: 'running' }, { inStopCycle: 7260 * S }],
  ['failed, asked down again, unprobed, resumes at stopping', { phase: 'failed', desired: 'down', desiredAt: NOW, requests: 5, progress: { requestsAtFailure: 4 } }, unprobed, { kind: 'move', to: 'stopping' }],
];

describe('decide', () => {
  it.each(table)('%s', (_name, s, o, expected, timing) => {
    const st = state(s);
    expect(decide(st, o, settings, { now: NOW, inPhase: NOW - st.phaseSince, silentFor: 0, ...timing })).toMatchObject(expected);
  });
});

describe('adopt', () => {
  it('maps what is out there to a phase', () => {
    expect(adopt('up', none)).toBe('archived');
    expect(adopt('up', starting)).toBe('booting');
    expect(adopt('up', up)).toBe('running');
    expect(adopt('down', up)).toBe('stopping');
    expect(adopt('down', stopped)).toBe('powering_off');
    expect(adopt('up', stopped)).toBe('booting');
    expect(adopt('down', unprobed)).toBe('stopping');
  });
});

describe('copies of the world (backups)', () => {
  const on: DecideSettings = { ...settings, backups: { enabled: true, every: 1800 * S } };
  const off: DecideSettings = { ...settings, backups: { enabled: false, every: 1800 * S } };
  const running = (over: Partial<ServerState> = {}) =>
    state({ phase: 'running', desired: 'up', phaseSince: NOW - 3600 * S, readyAt: NOW - 3600 * S, ...over, progress: { joined: true, ...over.progress } });
  const at = (s: ServerState, o: Observation, cfg = on, timing: Partial<Timing> = {}) => decide(s, o, cfg, { now: NOW, inPhase: NOW - s.phaseSince, silentFor: 0, ...timing });
  const copy = { kind: 'act', step: 'copy', giveUp: 'skip' };

  it('is due with players on, `every` after the server became ready (no copy yet), bounded by deadlines.stopping', () => {
    expect(at(running(), up)).toMatchObject({ ...copy, copy: { timeoutMs: 120 * S, live: true } });
    expect(at(running({ readyAt: NOW - 1799 * S }), up)).toMatchObject({ kind: 'wait', until: NOW + S });
  });

  it('is due `every` after the last attempt, failed or not, never sooner (a failing copy is not retried every tick)', () => {
    expect(at(running({ progress: { lastCopyAt: NOW - 1800 * S } }), up)).toMatchObject(copy);
    expect(at(running({ progress: { lastCopyAt: NOW - 60 * S, copyWarning: 'the SSH channel closed' } }), up)).toMatchObject({ kind: 'wait', until: NOW + 1740 * S });
  });

  it('is due with nobody on now when someone played since the last copy, and not when nobody did', () => {
    const quiet = running({ emptySince: NOW - 60 * S, progress: { lastCopyAt: NOW - 1900 * S, playedSinceCopy: true } });
    expect(at(quiet, empty)).toMatchObject(copy);
    expect(at(running({ emptySince: NOW - 60 * S, progress: { lastCopyAt: NOW - 1900 * S, playedSinceCopy: false } }), empty)).toMatchObject({ kind: 'wait' });
    // Nobody ever joined this session: nothing changed that a copy would keep.
    expect(at(running({ progress: { joined: false } }), empty)).toMatchObject({ kind: 'wait' });
    // Players unknown (no probe answered) is not someone playing.
    expect(at(running(), { ...up, players: null })).toMatchObject({ kind: 'wait' });
  });

  it('is never taken with backups off, of a game that does not answer, or instead of a stop', () => {
    expect(at(running(), up, off)).toMatchObject({ kind: 'wait' });
    expect(at(running(), up, settings)).toMatchObject({ kind: 'wait' });
    expect(at(running(), { ...up, game: 'silent' })).toMatchObject({ kind: 'wait' });
    expect(at(running({ desired: 'down' }), up)).toMatchObject({ kind: 'move', to: 'stopping' });
    // An idle stop that is due comes first: the stop takes its own copy.
    expect(at(running({ emptySince: NOW - 901 * S, progress: { playedSinceCopy: true } }), empty)).toMatchObject({ kind: 'act', step: 'idle_stop' });
    for (const phase of ['booting', 'stopping', 'snapshotting', 'destroying', 'archived'] as const) {
      expect(at(state({ phase, desired: phase === 'booting' ? 'up' : 'down' }), phase === 'snapshotting' || phase === 'destroying' ? dropletOff : dropletUp), phase).not.toMatchObject({ step: 'copy' });
    }
  });

  it("takes the stop's own copy after the game saved and exited, before the machine is shut down, within what is left of deadlines.stopping", () => {
    const poweringOff = state({ phase: 'powering_off' });
    expect(at(poweringOff, dropletOnGameStopped, on, { inStopCycle: 20 * S })).toMatchObject({ ...copy, copy: { timeoutMs: 100 * S, live: false } });
    // Done (or given up): the machine is shut down.
    expect(at(state({ phase: 'powering_off', progress: { stopCopied: true } }), dropletOnGameStopped, on, { inStopCycle: 30 * S })).toMatchObject({ kind: 'act', step: 'power_down' });
    // Too near deadlines.stopping: skipped, and the power_down says so.
    const late = at(poweringOff, dropletOnGameStopped, on, { inStopCycle: 117 * S });
    expect(late).toMatchObject({ kind: 'act', step: 'power_down' });
    expect((late as { reason: string }).reason).toMatch(/the stop's copy was skipped: only 3s of deadlines.stopping was left/);
    // Backups off, or a host with no machine of its own (local: its stop archives on this machine).
    expect(at(poweringOff, dropletOnGameStopped, off, { inStopCycle: 20 * S })).toMatchObject({ kind: 'act', step: 'power_down' });
    expect(at(poweringOff, stopped, on, { inStopCycle: 20 * S })).toMatchObject({ kind: 'move', to: 'snapshotting' });
    expect(at(poweringOff, dropletOff, on, { inStopCycle: 20 * S })).toMatchObject({ kind: 'move', to: 'snapshotting' });
  });
});
