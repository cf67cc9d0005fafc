import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { ArchiveError } from '../../errors.js';
import type { ArchiveInfo } from '../driver.js';

const NAME = /^ood-(\d+)\.tar\.gz$/;

/** Files OoD keeps in a working directory for itself; they never go into an archive. */
export const isControlFile = (name: string) => name.startsWith('.ood-');

export interface ArchiveFacts {
  sha256: string;
  entries: number;
  bytes: number;
}

export function archiveName(ts: number): string {
  return `ood-${ts}.tar.gz`;
}

/** The good archives in `dir`, newest first. Files that do not match `ood-<ts>.tar.gz` are ignored. */
export async function listArchives(dir: string): Promise<ArchiveInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ArchiveError(`Could not list archives in ${dir}: ${(err as Error).message}`, true, { cause: err });
  }
  const out: ArchiveInfo[] = [];
  for (const name of names) {
    const match = NAME.exec(name);
    if (!match) continue;
    out.push({ name, ts: Number(match[1]), bytes: (await stat(join(dir, name))).size });
  }
  return out.sort((a, b) => b.ts - a.ts);
}

/** A name newer than every existing archive, so "newest" stays well defined even within one second. */
export function nextArchiveTs(nowMs: number, existing: readonly ArchiveInfo[]): number {
  const newest = existing.reduce((max, a) => Math.max(max, a.ts), 0);
  return Math.max(Math.floor(nowMs / 1000), newest + 1);
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `sourceDir` to `target` atomically: a temp file beside it, fsync, rename, fsync the directory.
 * A crash leaves either no archive or a whole one, never a half-written `ood-<ts>.tar.gz`.
 */
export async function writeArchive(sourceDir: string, target: string): Promise<ArchiveFacts> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${Date.now()}-${process.pid}.partial`);
  let entries = 0;
  try {
    const top = (await readdir(sourceDir)).filter((n) => !isControlFile(n)).sort();
    await tar.c(
      { gzip: true, file: temp, cwd: sourceDir, portable: true, onWriteEntry: () => void entries++ },
      top,
    );
    await fsyncPath(temp);
    const facts = await readArchive(temp);
    if (facts.entries !== entries) throw new ArchiveError(`Archive ${target} holds ${facts.entries} entries, ${entries} were written`, true);
    await rename(temp, target);
    await fsyncPath(dir);
    return facts;
  } catch (err) {
    await rm(temp, { force: true });
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`Could not write archive ${target}: ${(err as Error).message}`, true, { cause: err });
  }
}

/**
 * Reads a whole archive: its sha256, then every entry through gunzip and tar, so a truncated or
 * altered file throws (gzip's CRC covers the content). Two passes: tar's parser is not a Node
 * stream that `pipeline` can wait on, and the second read comes from the page cache.
 */
export async function readArchive(path: string): Promise<ArchiveFacts> {
  const hash = createHash('sha256');
  let entries = 0;
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    await tar.t({ file: path, strict: true, onReadEntry: () => void entries++ });
  } catch (err) {
    throw new ArchiveError(`Archive ${path} is damaged: ${(err as Error).message}`, false, { cause: err });
  }
  return { sha256: hash.digest('hex'), entries, bytes };
}

/**
 * Extracts `archive` into the empty directory `into`; throws an ArchiveError when it is damaged.
 * Gunzip runs as Node's zlib stream, on the libuv thread pool, while tar writes files on the main
 * thread: the two overlap as GNU tar's separate gzip process does. `tar.x({ file })` inflates on the
 * main thread and measured about 3× slower on a 200 MB world (see `npm run bench`).
 */
export async function extractArchive(archive: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const source = createReadStream(archive, { highWaterMark: 1 << 20 });
      const gunzip = createGunzip({ chunkSize: 256 << 10 });
      const unpack = new tar.Unpack({ cwd: into, strict: true, preserveOwner: false });
      const fail = (err: unknown) => {
        source.destroy();
        gunzip.destroy();
        reject(err as Error);
      };
      source.on('error', fail);
      gunzip.on('error', fail);
      unpack.on('error', fail);
      // 'close' comes after the last file is written, not just after the input ended.
      unpack.on('close', () => resolve());
      source.pipe(gunzip).pipe(unpack as unknown as NodeJS.WritableStream);
    });
  } catch (err) {
    throw new ArchiveError(`Archive ${archive} is damaged: ${(err as Error).message}`, false, { cause: err });
  }
}
