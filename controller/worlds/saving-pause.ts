import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HostError, messageOf } from '../errors.js';
import { writeFileDurably } from '../fs/durable.js';
import type { Observation } from '../reconcile/types.js';
import { copiesDir } from './copies.js';

/**
 * Saving paused for a copy of a running world, the standard way (`save-off`, `save-all flush`, copy,
 * `save-on`), made safe against a controller that dies in the middle: before `save-off` a marker is
 * written durably, and it is removed only once the game confirmed `save-on`. Every tick, a marker
 * still there is a game that may not be saving: `save-on` is sent again (resumeSavingIfMarked). A
 * game that stopped or a host that is gone needs nothing: vanilla forgets `save-off` when it exits.
 */
export function savingOffPath(dataDir: string, id: string): string {
  return join(copiesDir(dataDir, id), 'saving-off.json');
}

/** The game's console: RCON. `long` for a command that may take a while (`save-all flush` of a big world). */
export type GameConsole = (command: string, long?: boolean) => Promise<string>;

// Vanilla's answers (and the bundled game's): a change, or it was already so; either way it is so now.
const SAVING_OFF = /Automatic saving is now disabled|Saving is already turned off/i;
const SAVING_ON = /Automatic saving is now enabled|Saving is already turned on/i;
const SAVED = /Saved the game/i;

export interface Paused<T> {
  value: T;
  /** From `save-off` sent to `save-on` confirmed. */
  pausedMs: number;
}

/**
 * `copy` may call `resume` as soon as it has all it needs from the game's files (the tar has exited),
 * so saving is not held off while the copy is read back on this side; it is called after `copy` anyway.
 */
export async function withSavingPaused<T>(marker: string, send: GameConsole, copy: (resume: () => Promise<void>) => Promise<T>, signal?: AbortSignal): Promise<Paused<T>> {
  await mkdir(dirname(marker), { recursive: true });
  await writeFileDurably(marker, `${JSON.stringify({ since: new Date().toISOString(), pid: process.pid })}\n`);
  const started = performance.now();
  let pausedMs = 0;
  let resumed: Promise<string> | undefined;
  // Always, whatever happens: a game left with saving off loses everything since the copy.
  const resume = () =>
    (resumed ??= send('save-on').then(
      (reply) => ((pausedMs = performance.now() - started), reply),
      (err: unknown) => ((pausedMs = performance.now() - started), `no answer (${messageOf(err)})`),
    ));
  let outcome: { ok: true; value: T } | { ok: false; err: unknown };
  try {
    const off = await send('save-off');
    if (!SAVING_OFF.test(off)) throw new HostError(`The game did not turn saving off for the copy (it said ${JSON.stringify(off.slice(0, 120))})`, true);
    // The copy's bound covers the flush: a game slow to save must not hold the tick past it. Only the
    // flush is raced, never save-off: a save-off answered after save-on would leave saving off unseen.
    const flushed = await untilAborted(send('save-all flush', true), signal);
    if (!SAVED.test(flushed)) throw new HostError(`The game did not confirm the save before the copy (it said ${JSON.stringify(flushed.slice(0, 120))})`, true);
    outcome = { ok: true, value: await copy(async () => void (await resume())) };
  } catch (err) {
    outcome = { ok: false, err };
  }
  const reply = await resume();
  const on = SAVING_ON.test(reply);
  if (on) await rm(marker, { force: true });
  if (!outcome.ok) throw outcome.err;
  if (!on) {
    throw new HostError(
      `The copy was stored, but the game did not confirm save-on (it said ${JSON.stringify(reply.slice(0, 120))}); OoD sends save-on again on every check until it does`,
      true,
    );
  }
  return { value: outcome.value, pausedMs };
}

/** `work`, or the signal's reason once it aborts first (the work goes on unwatched; its outcome is dropped). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener('abort', onAbort), reject(err as Error)),
    );
  });
}

/**
 * What a tick does about a marker left behind: null when there is none (or the game cannot be asked
 * yet), else the journal line of what was done.
 */
export async function resumeSavingIfMarked(marker: string, observation: Observation, send: GameConsole): Promise<string | null> {
  if (!existsSync(marker)) return null;
  const since = markerSince(marker);
  if (observation.host === 'absent' || observation.power === 'off') {
    await rm(marker, { force: true });
    return `Forgot that a copy had turned saving off (since ${since}): ${observation.host === 'absent' ? 'that host is gone' : 'the game has stopped'}, and a game starts with saving on`;
  }
  if (observation.game !== 'answering') return null;
  const reply = await send('save-on');
  if (!SAVING_ON.test(reply)) throw new HostError(`The game did not confirm save-on (it said ${JSON.stringify(reply.slice(0, 120))})`, true);
  await rm(marker, { force: true });
  return `Turned saving back on (save-on), off since ${since} for a copy that was cut off; the game said ${JSON.stringify(reply.slice(0, 120))}`;
}

function markerSince(marker: string): string {
  try {
    return (JSON.parse(readFileSync(marker, 'utf8')) as { since?: string }).since ?? 'an unknown time';
  } catch {
    // A marker cut off as it was written still means saving may be off; its time is what is lost.
    return 'an unknown time';
  }
}
