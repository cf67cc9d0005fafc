import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { HostError } from '../../errors.js';

/**
 * The game process of a local host is found by a marker in its environment (`OOD_HOST=<dir>`),
 * read from /proc, not from a pid file OoD wrote. So a controller killed between spawning the game
 * and recording it still finds it after a restart, and never starts a second one. Linux only.
 */
export const MARKER = 'OOD_HOST';

const PREFIX = Buffer.from(`${MARKER}=`);
/** Errors that mean the process ended while we looked, or is not ours to read: not our game. */
const NOT_OURS = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);
/** Most environments fit in one read; a larger one takes a few. */
const CHUNK = 16 * 1024;
const SCAN_READERS = 4;

/**
 * Which host processes run, for one controller: `find` scans all of /proc, for the steps that start,
 * signal or refuse; `observe` is the cheap look a reconcile tick takes every second or so.
 *
 * A scan reads every process's environment and costs milliseconds of CPU; ticks of many servers
 * would make it a steady load. So `observe` first re-reads the environment of the pids already seen
 * with the host's marker (one small read each), scans only when none is left and the host exists,
 * and then shares one scan between all the servers that look within `shareForMs`. Whatever is
 * remembered is a hint: a pid counts only once its environment, read now, carries the marker,
 * so a pid the game left behind, reused by another process, is never taken for the game.
 */
export class HostProcesses {
  /** Pids seen carrying each host's marker. */
  private readonly known = new Map<string, Set<number>>();
  private recent: { at: number; table: Promise<Map<string, number[]>> } | undefined;

  constructor(
    private readonly shareForMs = 1_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A full scan, made now: never answered from memory, so `boot` never starts a second game. */
  async find(hostDir: string): Promise<number[]> {
    const found = (await this.scan()).get(hostDir) ?? [];
    // A remembered pid the scan missed (started after it listed /proc) still counts if it carries the marker.
    const late = await this.confirm(hostDir, [...(this.known.get(hostDir) ?? [])].filter((pid) => !found.includes(pid)));
    this.remember(hostDir, found);
    return [...found, ...late].sort((a, b) => a - b);
  }

  /**
   * For a reconcile tick: the host's processes, checked now when OoD knew of any; else from a scan at
   * most `shareForMs` old. Its "none" can miss a game started since by something other than OoD,
   * for that long; the steps that act on a "none" (`boot`, `snapshot`, `destroy`) `find` again.
   *
   * With no host directory (`hostExists` false) there is no scan: no game of OoD's can run for it.
   * The game is started only inside an existing host directory, and `destroy`, the one step that
   * removes it (renaming it to trash-*), does so only after a fresh `find` saw no game, with no boot
   * in between (one runner per server, one controller per data directory). A game whose directory
   * a person removed behind OoD's back is still seen while its pid is known, and by every `find`.
   */
  async observe(hostDir: string, hostExists: boolean): Promise<number[]> {
    const known = await this.confirm(hostDir, [...(this.known.get(hostDir) ?? [])]);
    if (known.length > 0 || !hostExists) return known;
    return this.confirm(hostDir, (await this.shared()).get(hostDir) ?? []);
  }

  /** Remembers a game OoD just started, so the next `observe` checks it without a scan. */
  started(hostDir: string, pid: number): void {
    this.remember(hostDir, [pid]);
  }

  /** Which of `pids` carry the host's marker now; the others are forgotten. */
  private async confirm(hostDir: string, pids: readonly number[]): Promise<number[]> {
    if (pids.length === 0) return [];
    const alive: number[] = [];
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (const pid of pids) {
      const environ = await readEnviron(pid, chunk);
      if (environ && markersIn(environ).includes(hostDir)) alive.push(pid);
      else this.known.get(hostDir)?.delete(pid);
    }
    this.remember(hostDir, alive);
    return alive.sort((a, b) => a - b);
  }

  private remember(hostDir: string, pids: readonly number[]): void {
    if (pids.length === 0) return;
    const set = this.known.get(hostDir) ?? new Set();
    for (const pid of pids) set.add(pid);
    this.known.set(hostDir, set);
  }

  private shared(): Promise<Map<string, number[]>> {
    if (this.recent && this.now() - this.recent.at <= this.shareForMs) return this.recent.table;
    return this.scan();
  }

  /** Scans /proc now; the result is shared with `observe` calls for the next `shareForMs`. */
  private scan(): Promise<Map<string, number[]>> {
    const table = scanProc();
    const recent = { at: this.now(), table };
    this.recent = recent;
    void table.catch(() => {
      if (this.recent === recent) this.recent = undefined;
    });
    return table;
  }
}

/**
 * Every process with a marker, by the marker's value (its host directory). A few reads at a time
 * (libuv's pool has 4 threads): one after another, each read wakes a pool thread that had gone back
 * to sleep, and on a VM that wake-up costs more CPU than the read itself (measured: 5x the scan's CPU).
 */
async function scanProc(): Promise<Map<string, number[]>> {
  const table = new Map<string, number[]>();
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  let next = 0;
  const reader = async () => {
    const chunk = Buffer.allocUnsafe(CHUNK);
    while (next < pids.length) {
      const pid = pids[next++]!;
      const environ = await readEnviron(pid, chunk);
      if (!environ) continue;
      for (const value of markersIn(environ)) table.set(value, [...(table.get(value) ?? []), Number(pid)]);
    }
  };
  await Promise.all(Array.from({ length: SCAN_READERS }, reader));
  return table;
}

/**
 * The NUL-separated environment of `pid` as it is now, or undefined when the process is gone or not
 * ours to read. `chunk` is the caller's, reused across its sequential reads (never by two at once).
 * A read shorter than asked is the end: /proc/<pid>/environ fills the whole request unless it reaches
 * the end of the block or fails (environ_read in the kernel's fs/proc/base.c), so most processes
 * cost one open, one read and one close; readFile's fstat and extra read cost more than the read.
 */
async function readEnviron(pid: number | string, chunk: Buffer): Promise<Buffer | undefined> {
  let file: FileHandle;
  try {
    file = await open(`/proc/${pid}/environ`, 'r');
  } catch (err) {
    if (NOT_OURS.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  try {
    const parts: Buffer[] = [];
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      parts.push(Buffer.from(chunk.subarray(0, bytesRead)));
      if (bytesRead < chunk.length) break;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  } catch (err) {
    if (NOT_OURS.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  } finally {
    await file.close();
  }
}

/** The values of every `OOD_HOST=` variable in an environment block. */
function markersIn(environ: Buffer): string[] {
  const values: string[] = [];
  for (let at = environ.indexOf(PREFIX); at !== -1; at = environ.indexOf(PREFIX, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue; // the text inside another variable's value
    const end = environ.indexOf(0, at);
    values.push(environ.toString('utf8', at + PREFIX.length, end === -1 ? environ.length : end));
  }
  return values;
}

/** One per controller process, since /proc is one per machine. */
const processes = new HostProcesses();

/** The pids carrying `hostDir`'s marker, from a full scan made now. */
export function findHostProcesses(hostDir: string): Promise<number[]> {
  return processes.find(hostDir);
}

/** The cheap look of a reconcile tick; see `HostProcesses.observe`. */
export function observeHostProcesses(hostDir: string, hostExists: boolean): Promise<number[]> {
  return processes.observe(hostDir, hostExists);
}

/**
 * Starts `command` in `hostDir`, detached in its own process group so it outlives the controller,
 * with output appended to `logFile`. Resolves once the process exists.
 */
export async function spawnHostProcess(options: { command: readonly string[]; hostDir: string; logFile: string; env: NodeJS.ProcessEnv }): Promise<number> {
  const [file, ...args] = options.command;
  if (!file) throw new HostError('The server command is empty', false);
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(file, args, {
      cwd: options.hostDir,
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...options.env, [MARKER]: options.hostDir },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    processes.started(options.hostDir, child.pid!);
    return child.pid!;
  } catch (err) {
    throw new HostError(`Could not start "${options.command.join(' ')}" in ${options.hostDir}: ${(err as Error).message}`, false, { cause: err });
  } finally {
    closeSync(log);
  }
}

/** Sends `signal` to each pid (and, for SIGKILL, its process group); pids already gone are skipped. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): number[] {
  const sent: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      sent.push(pid);
      if (signal === 'SIGKILL') process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  return sent;
}

/**
 * Whether `pid` has ended: gone from /proc, or a zombie with no thread left. A zombie leader alone is
 * not enough: its other threads are still exiting, and the files they share (the game's listening
 * socket among them) close only when the last one has gone (seen: "Z", 7 threads, the port still held).
 */
async function ended(pid: number): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(`/proc/${pid}/status`, 'r');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const status = buffer.toString('latin1', 0, bytesRead);
    return /^State:\s*Z/m.test(status) && /^Threads:\s*1$/m.test(status);
  } catch {
    return true;
  } finally {
    await handle?.close();
  }
}

/**
 * SIGKILL to each pid (and its group), then waits, up to `withinMs`, until each has ended. kill(2)
 * returns before the process is torn down: a big game (or a stopped one, woken to die) still holds
 * its port for a moment, unseen in /proc as it goes, and a boot started then found the port "in use
 * by a process OoD cannot see" and failed for good (game-faults, seen twice). Returns the pids sent
 * and those still not ended.
 */
export async function killAndWait(pids: readonly number[], withinMs = 10_000): Promise<{ sent: number[]; left: number[] }> {
  const sent = signalAll(pids, 'SIGKILL');
  const deadline = Date.now() + withinMs;
  let left = sent;
  for (;;) {
    const states = await Promise.all(left.map(ended));
    left = left.filter((_, i) => !states[i]);
    if (left.length === 0 || Date.now() > deadline) return { sent, left };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
