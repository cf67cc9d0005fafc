import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Flushes a file or directory to disk; a rename is durable only once its directory is synced. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `content` so that a crash or a full disk leaves either the old file or the
 * whole new one, never a truncated one: temp file beside it, fsync, rename, fsync the directory.
 * (npm's write-file-atomic does all but the directory sync, which is what makes the rename survive
 * a power cut; these few lines are cheaper than a dependency plus a second sync.)
 */
export async function writeFileDurably(path: string, content: string, mode = 0o600): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temp, content, { mode });
    await fsyncPath(temp);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncPath(dirname(path));
}
