import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FollowOptions, LogChunk } from './types.js';

/** How often the file is looked at for new bytes, truncation and rotation. */
export const POLL_MS = 250;
/** The backward read for the last lines stops this far from the end (a log of only huge lines). */
const MAX_TAIL_BYTES = 4 * 1024 * 1024;
const BLOCK = 64 * 1024;

/**
 * Follows a log file on this machine: its last `tail` lines, then what is appended; a truncated file
 * is read again from its start, a rotated one (renamed away, a new file at the path) is reopened, and a
 * missing one is waited for. Ends when `signal` aborts, and its file is closed then.
 */
export async function* followFile(path: string, options: FollowOptions): AsyncIterable<LogChunk> {
  const { signal } = options;
  let file: FileHandle | undefined;
  try {
    let waitingNoted = false;
    let position: number | undefined;
    let ino = 0;
    while (!signal.aborted) {
      if (!file) {
        file = await openIfThere(path);
        if (!file) {
          if (!waitingNoted) yield { kind: 'note', text: `no game log yet (${basename(path)}); waiting for the game to write one` };
          waitingNoted = true;
          if (!(await pause(signal))) return;
          continue;
        }
        const opened = await file.stat();
        ino = opened.ino;
        // The first file starts at its last lines; a file reopened after a rotation is new: all of it.
        position ??= await tailStart(file, opened.size, options.tail);
      }
      const size = (await file.stat()).size;
      if (size < position!) {
        yield { kind: 'note', text: 'log truncated; reading it from the start' };
        position = 0;
      }
      for await (const bytes of readRange(file, position!, size, signal)) {
        position! += bytes.length;
        yield { kind: 'data', bytes };
      }
      const atPath = await stat(path).catch(() => undefined);
      // Rotated (a new file at the path) or deleted (none): a deleted file held open keeps its disk space.
      if (!atPath || atPath.ino !== ino) {
        // What the writer added to the old file before it let go, up to now.
        for await (const bytes of readRange(file, position!, (await file.stat()).size, signal)) yield { kind: 'data', bytes };
        await file.close();
        file = undefined;
        position = 0;
        waitingNoted = !atPath;
        yield { kind: 'note', text: atPath ? 'log rotated; reading the new file' : 'log deleted; waiting for a new one' };
        continue;
      }
      if (!(await pause(signal))) return;
    }
  } finally {
    await file?.close();
  }
}

async function openIfThere(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Waits one poll; false when the follow was aborted meanwhile. */
async function pause(signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(POLL_MS, undefined, { signal });
    return true;
  } catch (err) {
    if (signal.aborted) return false;
    throw err;
  }
}

/** Reads `[from, to)` in blocks, so a large append is never one buffer. */
async function* readRange(file: FileHandle, from: number, to: number, signal: AbortSignal): AsyncIterable<Buffer> {
  let at = from;
  while (at < to && !signal.aborted) {
    const buffer = Buffer.allocUnsafe(Math.min(BLOCK, to - at));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
    if (bytesRead === 0) return;
    at += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/**
 * Where the last `lines` lines of a file of `size` bytes begin, read backwards in blocks. At most
 * MAX_TAIL_BYTES back: past that, from the first line that starts within them.
 */
export async function tailStart(file: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0 || size === 0) return size;
  const floor = Math.max(0, size - MAX_TAIL_BYTES);
  // A newline that ends the file ends the last line; it does not start another.
  let newlines = 0;
  let earliest: number | undefined;
  let end = size;
  const buffer = Buffer.allocUnsafe(BLOCK);
  while (end > floor) {
    const start = Math.max(floor, end - BLOCK);
    const { bytesRead } = await file.read(buffer, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buffer[i] !== 0x0a || start + i === size - 1) continue;
      newlines += 1;
      earliest = start + i + 1;
      if (newlines === lines) return earliest;
    }
    end = start;
  }
  // The 4 MiB stop fell inside a line: begin at the first whole one after it.
  return floor === 0 ? 0 : (earliest ?? floor);
}
