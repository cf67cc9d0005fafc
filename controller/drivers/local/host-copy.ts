import { formatDuration } from '../../config/duration.js';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { HostError } from '../../errors.js';
import { pruneCopies, writeCopy, type WrittenCopy } from '../../worlds/copies.js';
import { savingOffPath, withSavingPaused, type GameConsole } from '../../worlds/saving-pause.js';
import type { CopyOptions } from '../driver.js';
import { isControlFile } from './archive.js';

export interface HostCopyDeps {
  hostDir: string;
  dataDir: string;
  server: string;
  send: GameConsole;
  clock: () => number;
}

/**
 * A copy of a local server's working directory while its game runs (an option: `backups.enabled` on a
 * local server), as its archives hold it (every file but OoD's control files), with saving paused
 * around it as on a droplet (saving-pause.ts). Cut off after `timeoutMs` like a droplet's copy.
 */
export async function copyHostDir(deps: HostCopyDeps, options: CopyOptions): Promise<string> {
  const started = performance.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new HostError(`The copy of ${deps.server}'s world did not finish within ${formatDuration(options.timeoutMs)} (deadlines.stopping bounds a copy); it was cut off and not kept`, true)), options.timeoutMs);
  let tarMs = 0;
  const take = async (resume?: () => Promise<void>): Promise<WrittenCopy> => {
    const tarStarted = performance.now();
    const entries = (await readdir(deps.hostDir)).filter((n) => !isControlFile(n)).sort();
    const pack = tar.c({ cwd: deps.hostDir, portable: true }, entries) as unknown as AsyncIterable<Buffer>;
    // Gzip on the thread pool, as archive.ts does; the store reads it back before naming it.
    const source = Readable.from(pack).pipe(createGzip({ chunkSize: 256 << 10 }));
    const written = await writeCopy(deps.dataDir, deps.server, source, deps.clock(), { signal: abort.signal, sourceDone: async () => resume?.() });
    tarMs = performance.now() - tarStarted;
    return written;
  };
  try {
    let copy: WrittenCopy;
    let paused = '';
    if (options.live) {
      const result = await withSavingPaused(savingOffPath(deps.dataDir, deps.server), deps.send, take, abort.signal);
      copy = result.value;
      paused = `; saving was off for ${(result.pausedMs / 1000).toFixed(1)} s`;
    } else {
      copy = await take();
    }
    const pruned = await pruneCopies(deps.dataDir, deps.server, options.keep);
    const seconds = (performance.now() - started) / 1000;
    return `Copied the working directory to copies/${copy.name}: ${(copy.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s (the tar and its read-back ${(tarMs / 1000).toFixed(1)} s)${paused}${pruned.length > 0 ? `; removed ${pruned.join(', ')}` : ''}`;
  } catch (err) {
    throw abort.signal.aborted ? abort.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}
