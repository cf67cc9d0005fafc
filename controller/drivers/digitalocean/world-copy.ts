import { formatDuration } from '../../config/duration.js';
import { SshError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { pruneCopies, writeCopy, type WrittenCopy } from '../../worlds/copies.js';
import { savingOffPath, withSavingPaused, type GameConsole } from '../../worlds/saving-pause.js';
import type { CopyOptions } from '../driver.js';
import { GAME_DIR, type RemoteGame } from './remote-game.js';
import type { SshHost, SshTarget } from './ssh-host.js';

export interface DropletCopyDeps {
  ssh: SshHost;
  target: () => SshTarget;
  game: RemoteGame;
  /** RCON to the droplet's game (through the SSH tunnel). */
  send: GameConsole;
  dataDir: string;
  server: string;
  log: Logger;
  clock: () => number;
}

/**
 * A level-name OoD will put in a shell command: the game's own default and the names people give
 * worlds, never a path (`..`, `/`) or anything a shell would read.
 */
const SAFE_LEVEL = /^[A-Za-z0-9_][A-Za-z0-9_. -]{0,99}$/;

/**
 * The copy's command on the droplet: the world folder named by `level-name` and server.properties
 * without its RCON password (a copy is downloadable; the password is the droplet's, never the
 * controller's to hand out), as one `.tar.gz` on stdout, the layout of a local archive. `nice`, so the
 * game keeps its CPU; gzip runs on the droplet, so only compressed bytes cross the network.
 */
export function copyCommand(level: string): string {
  return [
    'set -e',
    `cd ${GAME_DIR}`,
    `test -d '${level}'`,
    't=$(mktemp -d)',
    `trap 'rm -rf "$t"' EXIT`,
    `grep -v '^rcon\\.password=' server.properties > "$t/server.properties" || true`,
    `nice -n 10 tar czf - -C ${GAME_DIR} '${level}' -C "$t" server.properties`,
  ].join('\n');
}

/**
 * One copy of a droplet's world into `<dataDir>/servers/<id>/copies/` (issue 19 item 4), streamed over
 * the SSH connection OoD already holds: with the game running, saving is paused around it
 * (saving-pause.ts: marker, save-off, save-all flush, tar, save-on always); after a stop's final save,
 * the game has exited and the tar alone is taken. The whole copy is cut off after `timeoutMs`.
 */
export async function copyDropletWorld(deps: DropletCopyDeps, options: CopyOptions): Promise<string> {
  const started = performance.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new SshError(`The copy of ${deps.server}'s world did not finish within ${formatDuration(options.timeoutMs)} (deadlines.stopping bounds a copy); it was cut off and not kept`, true)), options.timeoutMs);
  try {
    const level = (await deps.game.readProperties()).get('level-name') || 'world';
    if (!SAFE_LEVEL.test(level)) throw new SshError(`server.properties on the droplet names the world "${level.slice(0, 60)}"; OoD copies only a folder named with letters, digits, spaces, dots, dashes and underscores`, false);
    let tarMs = 0;
    const take = async (resume?: () => Promise<void>): Promise<WrittenCopy> => {
      abort.signal.throwIfAborted();
      const tarStarted = performance.now();
      const { stdout, done } = await deps.ssh.execStream(deps.target(), copyCommand(level));
      const sourceDone = async () => {
        const { code, stderr } = await done;
        if (code !== 0) throw new SshError(`tar of ${GAME_DIR}/${level} on ${deps.target().host} exited with ${code}: ${stderr.trim().slice(0, 300)}`, true);
        // Every byte is here: the game may save again while the copy is read back on this side.
        await resume?.();
      };
      const written = await writeCopy(deps.dataDir, deps.server, stdout, deps.clock(), { signal: abort.signal, sourceDone });
      tarMs = performance.now() - tarStarted;
      return written;
    };
    let copy: WrittenCopy;
    let paused = '';
    if (options.live) {
      const result = await withSavingPaused(savingOffPath(deps.dataDir, deps.server), deps.send, take, abort.signal);
      copy = result.value;
      paused = `; saving was off for ${(result.pausedMs / 1000).toFixed(1)} s`;
    } else {
      copy = await take();
    }
    const seconds = (performance.now() - started) / 1000;
    const pruned = await pruneCopies(deps.dataDir, deps.server, options.keep);
    deps.log.info({ copy: copy.name, bytes: copy.bytes, seconds }, 'Copied the world off the droplet');
    return (
      `Copied the world (${level}) off the droplet to copies/${copy.name}: ${(copy.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s (the tar and its read-back ${(tarMs / 1000).toFixed(1)} s)${paused}` +
      (pruned.length > 0 ? `; removed ${pruned.length} older cop${pruned.length === 1 ? 'y' : 'ies'} (${pruned.join(', ')})` : '')
    );
  } catch (err) {
    throw abort.signal.aborted ? abort.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}
