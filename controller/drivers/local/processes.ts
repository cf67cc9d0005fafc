import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { HostError } from '../../errors.js';

/**
 * The game process of a local host is found by a marker in its environment (`OOD_HOST=<dir>`),
 * read from /proc, not from a pid file OoD wrote. So a controller killed between spawning the game
 * and recording it still finds it after a restart, and never starts a second one. Linux only.
 */
export const MARKER = 'OOD_HOST';

export async function findHostProcesses(hostDir: string): Promise<number[]> {
  const needle = Buffer.from(`\0${MARKER}=${hostDir}\0`);
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: Buffer;
    try {
      environ = await readFile(`/proc/${entry}/environ`);
    } catch (err) {
      // The process ended while we looked, or is not ours to read: not our game.
      if (['ENOENT', 'ESRCH', 'EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
      throw err;
    }
    // Prefix with NUL so the first variable matches like the others.
    if (Buffer.concat([Buffer.from([0]), environ]).includes(needle)) pids.push(Number(entry));
  }
  return pids;
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
