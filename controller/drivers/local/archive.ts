import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readlinkSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import * as tar from 'tar';
import { ArchiveDamagedError, ArchiveError } from '../../errors.js';
import { fsyncPath } from '../../fs/durable.js';
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

/** Removes temp files of archive writes that a crash cut off; they are never whole archives. */
export async function removePartials(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) if (name.endsWith('.partial')) await rm(join(dir, name), { force: true });
}

/** A name newer than every existing archive, so "newest" stays well defined even within one second. */
export function nextArchiveTs(nowMs: number, existing: readonly ArchiveInfo[]): number {
  const newest = existing.reduce((max, a) => Math.max(max, a.ts), 0);
  return Math.max(Math.floor(nowMs / 1000), newest + 1);
}

/**
 * Writes `sourceDir` to `target` atomically: a temp file beside it, fsync, rename, fsync the directory.
 * A crash leaves either no archive or a whole one, never a half-written `ood-<ts>.tar.gz`. Before the
 * rename the file is read back in full and must match what was written (sha256 and entry count).
 * On every failure (a full disk included) the temp file is removed and the error is an ArchiveError:
 * retryable for I/O, terminal for a world OoD cannot archive faithfully (a link out of the host).
 */
export async function writeArchive(sourceDir: string, target: string): Promise<ArchiveFacts> {
  return writeVerifiedArchive(target, async (temp) => packTo(sourceDir, (await readdir(sourceDir)).filter((n) => !isControlFile(n)).sort(), temp));
}

/**
 * Writes `target` atomically from whatever `fill` writes into the temp file it is given (a pack of a
 * directory, or a `.tar.gz` streamed from elsewhere), then verifies and renames it as writeArchive
 * says. `fill` reports the sha256 of the bytes it wrote and, when it knows it, the entry count.
 */
export async function writeVerifiedArchive(target: string, fill: (temp: string) => Promise<{ sha256: string; entries?: number }>): Promise<ArchiveFacts> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${Date.now()}-${process.pid}.partial`);
  try {
    const written = await fill(temp);
    await fsyncPath(temp);
    const read = await readArchive(temp);
    if (read.sha256 !== written.sha256 || (written.entries !== undefined && read.entries !== written.entries)) {
      throw new ArchiveError(`Archive ${target} reads back as ${read.entries} entries (sha256 ${read.sha256.slice(0, 12)}); ${written.entries ?? 'some'} (${written.sha256.slice(0, 12)}) were written`, true);
    }
    await rename(temp, target);
    await fsyncPath(dir);
    return read;
  } catch (err) {
    await rm(temp, { force: true });
    if (err instanceof ArchiveError && !(err instanceof ArchiveDamagedError)) throw err;
    // A file this very call wrote that reads back damaged was spoilt on its way to disk: write it again.
    throw new ArchiveError(`Could not write archive ${target}: ${(err as Error).message}`, true, { cause: err });
  }
}

/**
 * A symbolic link that leads out of `root` (absolute, or through `..` past the top). OoD archives
 * only what is inside the host: such a link would archive as a bare pointer, and would restore
 * pointing at whatever is at that path then (or not restore at all), so the world it stood for is
 * not saved. It is refused before anything is removed; the person who made it decides.
 */
function linkOutOf(root: string, relPath: string): string | undefined {
  const absolute = join(root, relPath);
  const target = readlinkSync(absolute);
  const resolved = resolve(dirname(absolute), target);
  const inside = relative(root, resolved);
  if (isAbsolute(target) || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return target;
  return undefined;
}

/**
 * tar → gzip → file, hashing the bytes on their way to disk. Gzip is Node's zlib stream, which runs
 * on the libuv thread pool while tar reads files on the main thread, as GNU tar's separate gzip
 * process does; node-tar's own `gzip: true` compresses on the main thread. `pipeline` owns every
 * stream's errors and tears all of them down on the first, so nothing is hashed after the digest
 * and no stream error goes uncaught (a full disk once crashed the controller here).
 */
async function packTo(cwd: string, entries: string[], file: string): Promise<ArchiveFacts> {
  const hash = createHash('sha256');
  let count = 0;
  let bytes = 0;
  const linksOut: string[] = [];
  const pack = tar.c(
    {
      cwd,
      portable: true,
      onWriteEntry: () => void count++,
      filter: (path, stat) => {
        if (!('isSymbolicLink' in stat) || !stat.isSymbolicLink()) return true;
        const target = linkOutOf(cwd, path);
        if (target !== undefined) linksOut.push(`${path} → ${target}`);
        return target === undefined;
      },
    },
    entries,
  );
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(pack as unknown as AsyncIterable<Buffer>, createGzip({ chunkSize: 256 << 10 }), hashing, createWriteStream(file, { mode: 0o600 }));
  if (linksOut.length > 0) {
    throw new ArchiveError(
      `${cwd} has symbolic links that lead out of the host (${linksOut.join(', ')}); an archive would keep only the link, not what it ` +
        'points to. Replace each with a copy of its target (cp -rL) or move the files into the host, then ask for the stop again',
      false,
    );
  }
  return { sha256: hash.digest('hex'), entries: count, bytes };
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
    throw classify(err, path);
  }
  return { sha256: hash.digest('hex'), entries, bytes };
}

/**
 * file → gunzip → a tar stream, resolving on the sink's `done` event. Gunzip is Node's zlib stream,
 * on the libuv thread pool, so inflating overlaps tar's work on the main thread as GNU tar's separate
 * gzip process does; `tar.x({ file })` inflates on the main thread and measured about 3× slower.
 * The tar side is not a Node stream, so it is fed by hand; its errors are caught from the first byte.
 */
async function gunzipInto(path: string, sink: tar.Parser, done: 'end' | 'close', onRead?: (chunk: Buffer) => void): Promise<void> {
  let sinkError: Error | undefined;
  const sinkFailed = new Promise<never>((_, reject) =>
    sink.on('error', (err: Error) => {
      sinkError ??= err;
      reject(err);
    }),
  );
  sinkFailed.catch(() => undefined); // observed through sinkError and the races below
  const feed = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      if (sinkError) throw sinkError;
      if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), sinkFailed]);
    }
    const finished = once(sink, done);
    sink.end();
    await Promise.race([finished, sinkFailed]);
  };
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  const gunzip = createGunzip({ chunkSize: 256 << 10 });
  try {
    if (onRead) await pipeline(source, new Transform({ transform: (chunk: Buffer, _e, cb) => (onRead(chunk), cb(null, chunk)) }), gunzip, feed);
    else await pipeline(source, gunzip, feed);
  } catch (err) {
    // When the tar side fails, pipeline rejects with an AbortError of its own; the sink's error says why.
    throw sinkError ?? err;
  }
}

/**
 * Extracts `archive` into the empty directory `into`. Throws ArchiveDamagedError only for damage
 * of the archive itself; a full disk or a refused entry is an ArchiveError that leaves it alone.
 */
export async function extractArchive(archive: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  try {
    // Unpack's 'close' comes after the last file is written, not just after the input ended.
    await gunzipInto(archive, new tar.Unpack({ cwd: into, strict: true, preserveOwner: false }), 'close');
  } catch (err) {
    throw classify(err, archive);
  }
}

/** tar's codes for bytes that are not a well-formed archive; zlib's (Z_*) mean the same for gzip. */
const DAMAGE_CODES = new Set(['TAR_BAD_ARCHIVE', 'TAR_ENTRY_INVALID', 'TAR_ABORT']);

/** What a failed read of an archive means: damage, an I/O error of this machine, or an entry refused. */
function classify(err: unknown, archive: string): ArchiveError {
  const e = err as NodeJS.ErrnoException & { tarCode?: string };
  const name = basename(archive);
  if (e.syscall !== undefined || (e.code !== undefined && /^E[A-Z]+$/.test(e.code))) {
    return new ArchiveError(`Could not read or unpack ${name} (${e.message}); the archive itself is not known to be damaged`, true, { cause: err });
  }
  if ((e.code?.startsWith('Z_') ?? false) || DAMAGE_CODES.has(e.tarCode ?? '') || DAMAGE_CODES.has(e.code ?? '')) {
    return new ArchiveDamagedError(`Archive ${archive} is damaged: ${e.message}`, { cause: err });
  }
  return new ArchiveError(`Archive ${name} cannot be restored as it is (${e.message}); it was left in place. Restore it by hand with tar, or move it away to use the one before`, false, { cause: err });
}
