import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGunzip, createGzip } from 'node:zlib';
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
 * A crash leaves either no archive or a whole one, never a half-written `ood-<ts>.tar.gz`. Before the
 * rename the file is read back in full and must match what was written (sha256 and entry count).
 */
export async function writeArchive(sourceDir: string, target: string): Promise<ArchiveFacts> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${Date.now()}-${process.pid}.partial`);
  try {
    const top = (await readdir(sourceDir)).filter((n) => !isControlFile(n)).sort();
    const written = await packTo(sourceDir, top, temp);
    await fsyncPath(temp);
    const read = await readArchive(temp);
    if (read.sha256 !== written.sha256 || read.entries !== written.entries) {
      throw new ArchiveError(`Archive ${target} reads back as ${read.entries} entries (sha256 ${read.sha256.slice(0, 12)}); ${written.entries} (${written.sha256.slice(0, 12)}) were written`, true);
    }
    await rename(temp, target);
    await fsyncPath(dir);
    return read;
  } catch (err) {
    await rm(temp, { force: true });
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`Could not write archive ${target}: ${(err as Error).message}`, true, { cause: err });
  }
}

/**
 * tar → gzip → file, hashing the bytes on their way to disk. Gzip is Node's zlib stream, which runs
 * on the libuv thread pool while tar reads files on the main thread, as GNU tar's separate gzip
 * process does; node-tar's own `gzip: true` compresses on the main thread.
 */
function packTo(cwd: string, entries: string[], file: string): Promise<ArchiveFacts> {
  const hash = createHash('sha256');
  let count = 0;
  let bytes = 0;
  return new Promise((resolve, reject) => {
    const pack = tar.c({ cwd, portable: true, onWriteEntry: () => void count++ }, entries);
    const gzip = createGzip({ chunkSize: 256 << 10 });
    const out = createWriteStream(file, { mode: 0o600 });
    const fail = (err: unknown) => {
      gzip.destroy();
      out.destroy();
      reject(err as Error);
    };
    pack.on('error', fail);
    gzip.on('error', fail);
    out.on('error', fail);
    gzip.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    out.on('close', () => resolve({ sha256: hash.digest('hex'), entries: count, bytes }));
    pack.pipe(gzip as unknown as NodeJS.WritableStream);
    gzip.pipe(out);
  });
}

/**
 * Reads a whole archive in one pass: its sha256, and every entry through gunzip and tar, so a
 * truncated or altered file throws (gzip's CRC covers the content).
 */
export async function readArchive(path: string): Promise<ArchiveFacts> {
  const hash = createHash('sha256');
  let entries = 0;
  let bytes = 0;
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      entries++;
      entry.resume();
    },
  });
  try {
    await gunzipInto(path, parser, 'end', (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
  } catch (err) {
    throw new ArchiveError(`Archive ${path} is damaged: ${(err as Error).message}`, false, { cause: err });
  }
  return { sha256: hash.digest('hex'), entries, bytes };
}

/**
 * file → gunzip → a tar stream, resolving on the sink's `done` event. Gunzip is Node's zlib stream,
 * on the libuv thread pool, so inflating overlaps tar's work on the main thread as GNU tar's separate
 * gzip process does; `tar.x({ file })` inflates on the main thread and measured about 3× slower.
 */
function gunzipInto(path: string, sink: tar.Parser, done: 'end' | 'close', onRead?: (chunk: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const source = createReadStream(path, { highWaterMark: 1 << 20 });
    const gunzip = createGunzip({ chunkSize: 256 << 10 });
    const fail = (err: unknown) => {
      source.destroy();
      gunzip.destroy();
      reject(err as Error);
    };
    source.on('error', fail);
    gunzip.on('error', fail);
    sink.on('error', fail);
    sink.on(done, () => resolve());
    if (onRead) source.on('data', (chunk) => onRead(chunk as Buffer));
    source.pipe(gunzip).pipe(sink as unknown as NodeJS.WritableStream);
  });
}

/** Extracts `archive` into the empty directory `into`; throws an ArchiveError when it is damaged. */
export async function extractArchive(archive: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  try {
    // Unpack's 'close' comes after the last file is written, not just after the input ended.
    await gunzipInto(archive, new tar.Unpack({ cwd: into, strict: true, preserveOwner: false }), 'close');
  } catch (err) {
    throw new ArchiveError(`Archive ${archive} is damaged: ${(err as Error).message}`, false, { cause: err });
  }
}
