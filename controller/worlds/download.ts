import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import * as tar from 'tar';
import { parseProperties } from '../minecraft/properties.js';

/** Why a version cannot be downloaded: `status` is what the API answers. */
export class WorldDownloadError extends Error {
  override name = 'WorldDownloadError';
  /** The API's error middleware shows the message to the client. */
  readonly expose = true;
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The top-level folder every download unpacks to, whatever the world was called on its server. */
export const DOWNLOAD_TOP = 'world';

/** Entry kinds a world is made of; anything else (a device, a FIFO) has no place in a download. */
const KEPT = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

const BLOCK = 512;

/**
 * A `.tar.gz` of the world folder (the one `level.dat` sits in) inside a verified local archive or
 * copy (both are renamed into place only once read back whole, so this never reads one being written),
 * re-packed under `world/`, made while it is read: archive → gunzip → tar → only that folder's
 * entries → tar → gzip. Memory stays constant (one entry's chunk at a time, backpressure all the way
 * to the file) and no copy of the world is written anywhere. The archive is opened once, so a prune
 * that removes it meanwhile cannot cut the download short (the open file lives on until closed).
 *
 * The world's folder is found first, by reading the archive's headers once (bodies are skipped, so
 * the pass costs a gunzip): tar order is readdir order, and `level.dat` may come after the region files.
 * A damaged archive fails the stream (the client sees a cut-off response, never a short file that
 * looks whole: gzip's trailer is missing).
 */
export async function worldTarGz(archivePath: string): Promise<{ stream: Readable; folder: string }> {
  const handle = await open(archivePath, 'r');
  let folder: string;
  try {
    folder = await findWorldFolder(handle, posix.basename(archivePath));
  } catch (err) {
    await handle.close();
    throw err;
  }
  const gzip = createGzip({ chunkSize: 64 << 10 });
  const tarOut = new PassThrough({ highWaterMark: 64 << 10 });
  const abort = new AbortController();
  // The client went away (Koa destroys the body) or gzip failed: stop reading at once.
  gzip.once('close', () => abort.abort());
  void (async () => {
    try {
      await pipeline(tarOut, gzip).catch(() => undefined); // gzip's own errors reach the client through `stream`
    } finally {
      abort.abort();
    }
  })();
  void readEntries(handle, abort.signal, (parser) => repack(parser, folder, tarOut))
    .then(
      () => tarOut.end(Buffer.alloc(2 * BLOCK)),
      (err: unknown) => {
        if (!abort.signal.aborted) gzip.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    )
    .finally(() => void handle.close().catch(() => undefined));
  return { stream: gzip, folder };
}

/**
 * The folder holding `level.dat`, at the archive's top (`''`) or one level down. With several, the
 * one server.properties names (`level-name`, default `world`) wins: that is the world the game played.
 */
async function findWorldFolder(handle: FileHandle, name: string): Promise<string> {
  const candidates: string[] = [];
  let properties = '';
  await readEntries(handle, undefined, (parser) =>
    parser.on('entry', (entry: tar.ReadEntry) => {
      const path = clean(entry.path);
      if (path === 'server.properties' && entry.type === 'File' && entry.size < 1 << 20) {
        entry.on('data', (chunk: Buffer) => void (properties += chunk.toString('utf8')));
        return;
      }
      const parts = path.split('/');
      if (parts.at(-1) === 'level.dat' && entry.type === 'File' && parts.length <= 2) candidates.push(parts.slice(0, -1).join('/'));
      entry.resume();
    }),
  ).catch((err: unknown) => {
    const e = err as NodeJS.ErrnoException & { tarCode?: string };
    // zlib's Z_* codes and tar's own: the bytes are not a whole archive. An I/O error stays what it is.
    if ((e.code?.startsWith('Z_') ?? false) || e.tarCode !== undefined || (e.code?.startsWith('TAR_') ?? false)) {
      throw new WorldDownloadError(422, `Archive ${name} is damaged (${e.message}) and cannot be downloaded; download another version`, { cause: err });
    }
    throw err;
  });
  const levelName = parseProperties(properties).get('level-name') ?? 'world';
  if (candidates.includes(levelName)) return levelName;
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.includes('')) return '';
  if (candidates.length === 0) throw new WorldDownloadError(422, `Archive ${name} holds no level.dat at its top or one folder down, so it has no world to download`);
  throw new WorldDownloadError(422, `Archive ${name} holds several worlds (${candidates.join(', ')}) and server.properties names none of them (level-name=${levelName})`);
}

/** An entry path without a leading `./` or a trailing `/`. */
function clean(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** The path inside `folder`, or undefined when the entry is not in it ('' for the folder itself). */
function inFolder(path: string, folder: string): string | undefined {
  const p = clean(path);
  if (folder === '') return p;
  if (p === folder) return '';
  return p.startsWith(`${folder}/`) ? p.slice(folder.length + 1) : undefined;
}

/**
 * Copies the world's entries from `parser` to `out` as a tar stream under `world/`. Backpressure: when
 * `out` is full the entry pauses, which makes the parser's write return false, which stops the file read.
 */
function repack(parser: tar.Parser, folder: string, out: PassThrough): void {
  parser.on('entry', (entry: tar.ReadEntry) => {
    const rel = inFolder(entry.path, folder);
    if (rel === undefined || !KEPT.has(entry.type)) return void entry.resume();
    const linkpath = entry.type === 'Link' ? inFolder(entry.linkpath ?? '', folder) : entry.linkpath;
    // A hard link to a file outside the world would unpack to nothing: leave it out.
    if (entry.type === 'Link' && linkpath === undefined) return void entry.resume();
    const size = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile' ? entry.size : 0;
    const path = rel === '' ? `${DOWNLOAD_TOP}/` : `${DOWNLOAD_TOP}/${rel}${entry.type === 'Directory' ? '/' : ''}`;
    const header = new tar.Header({
      path,
      type: entry.type,
      mode: entry.mode ?? (entry.type === 'Directory' ? 0o755 : 0o644),
      size,
      ...(entry.mtime ? { mtime: entry.mtime } : {}),
      ...(entry.type === 'Link' ? { linkpath: `${DOWNLOAD_TOP}/${linkpath}` } : entry.type === 'SymbolicLink' ? { linkpath: entry.linkpath ?? '' } : {}),
    });
    if (header.encode()) {
      // A path or link longer than the ustar fields: a PAX header before it carries the whole thing.
      out.write(new tar.Pax({ path: header.path!, ...(header.linkpath ? { linkpath: header.linkpath } : {}), size, ...(header.mtime ? { mtime: header.mtime } : {}) }).encode());
    }
    out.write(header.block!);
    if (size === 0) return void entry.resume();
    entry.on('data', (chunk: Buffer) => {
      if (out.write(chunk)) return;
      entry.pause();
      out.once('drain', () => entry.resume());
    });
    entry.on('end', () => {
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) out.write(Buffer.alloc(pad));
    });
  });
}

/**
 * Reads the archive from its first byte through gunzip into a strict tar parser set up by `wire`,
 * resolving when the parser has seen the end. The parser is not a Node stream: it is fed by hand,
 * waiting for its `drain` (an entry being consumed slowly holds it), and its errors are caught from
 * the first byte (a damaged archive is an error, never a short world).
 */
async function readEntries(handle: FileHandle, signal: AbortSignal | undefined, wire: (parser: tar.Parser) => void): Promise<void> {
  const parser = new tar.Parser({ strict: true });
  let parseError: Error | undefined;
  const failed = new Promise<never>((_, reject) =>
    parser.on('error', (err: Error) => {
      parseError ??= err;
      reject(err);
    }),
  );
  failed.catch(() => undefined); // observed through parseError and the races below
  wire(parser);
  const feed = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      if (parseError) throw parseError;
      if (!parser.write(chunk)) await Promise.race([once(parser, 'drain', signal ? { signal } : {}), failed]);
    }
    const ended = once(parser, 'end');
    parser.end();
    await Promise.race([ended, failed]);
  };
  const source = handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 256 << 10 });
  try {
    await pipeline(source, createGunzip({ chunkSize: 64 << 10 }), feed, signal ? { signal } : {});
  } catch (err) {
    throw parseError ?? err;
  }
}
