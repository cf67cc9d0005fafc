import { gunzipSync } from 'node:zlib';
import { formatSize } from '../config/size.js';
import { NbtShapeError, nbtHasDataCompound } from './nbt-shape.js';

/**
 * What an uploaded world may hold, entry by entry, and what its `level.dat` must be. Pure functions,
 * so every refusal has a unit test; upload.ts feeds them the archive's entries as tar reads them.
 */

/** Why an upload was refused: `status` is what the API answers, the message names the problem. */
export class WorldUploadError extends Error {
  override readonly name = 'WorldUploadError';
  /** The API's error middleware shows the message to the client. */
  readonly expose = true;
  constructor(
    readonly status: 400 | 409 | 413 | 415 | 422 | 429,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Entry kinds a world is made of; links, devices and FIFOs are refused (node-tar's type names). */
const KINDS = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);
const REFUSED: Record<string, string> = {
  SymbolicLink: 'a symbolic link',
  Link: 'a hard link',
  CharacterDevice: 'a device file (character device)',
  BlockDevice: 'a device file (block device)',
  FIFO: 'a FIFO (named pipe)',
  // No tar type: a zip entry's Unix mode can say socket (upload-zip.ts).
  Socket: 'a socket',
};

/** The longest entry path taken, in bytes, and the longest name in it (Linux's NAME_MAX). */
export const PATH_MAX = 1024;
export const NAME_MAX = 255;

/** A level.dat is a few KB; one past this is not a level.dat, and is not read into memory. */
export const LEVEL_DAT_MAX = 16 << 20;

/** An entry's path as segments, without `.` segments; `./world/level.dat` → `['world', 'level.dat']`. */
export function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Why an entry may not be part of an uploaded world, or undefined when it may: an absolute path, a
 * `..` anywhere, a link of either kind, a device, a FIFO, or any kind tar knows that is not a file or a folder.
 */
export function entryProblem(path: string, type: string, linkpath?: string): string | undefined {
  const shown = JSON.stringify(path.slice(0, 200)).slice(1, -1);
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.startsWith('\\')) return `entry ${shown} is an absolute path; a world's entries are relative to its folder`;
  // No file system takes one; a zip's name field can hold it.
  if (path.includes('\0')) return `entry ${shown} has a NUL byte in its name; no file can be named so`;
  if (path.split(/[\\/]/).includes('..')) return `entry ${shown} leaves the world folder (it contains "..")`;
  // A world's longest path is a few hundred bytes; a longer one only costs the scan (a zip keeps names) and fails the unpack.
  if (Buffer.byteLength(path) > PATH_MAX) return `entry ${shown}… is longer than ${PATH_MAX} bytes; no world has a path that long`;
  const longName = path.split(/[\\/]/).find((s) => Buffer.byteLength(s) > NAME_MAX);
  if (longName !== undefined) return `entry ${shown} has a name longer than ${NAME_MAX} bytes (${JSON.stringify(longName.slice(0, 40))}…), which no file system takes`;
  const refused = REFUSED[type];
  if (refused) return `entry ${shown} is ${refused}${linkpath ? ` to ${JSON.stringify(linkpath.slice(0, 200))}` : ''}; a world holds only files and folders`;
  if (!KINDS.has(type)) return `entry ${shown} is a ${type} entry; a world holds only files and folders`;
  return undefined;
}

/** Why an upload whose entries unpack past `maxUnpacked` bytes (10 × worlds.maxUpload) is refused: a gzip or zip bomb. */
export function unpackedTooLarge(maxUnpacked: number): WorldUploadError {
  return new WorldUploadError(400, `the upload unpacks to more than ${formatSize(maxUnpacked)} (10 × worlds.maxUpload); a world compresses far less than that`);
}

/** The folder a `level.dat` entry stands in, when it is at the top (`''`) or one level down; else undefined. */
export function levelDatFolder(path: string, type: string): string | undefined {
  if (!KINDS.has(type) || type === 'Directory') return undefined;
  const parts = segments(path);
  if (parts.at(-1) !== 'level.dat') return undefined;
  if (parts.length === 1) return '';
  if (parts.length === 2) return parts[0];
  return undefined;
}

/**
 * The world folder among those holding a `level.dat`: the top when it has one, else the only folder
 * one level down, else `world` (the game's default `level-name`) when it is one of several.
 */
/**
 * Whether a level.dat found in `folder` is read into memory (each may be up to LEVEL_DAT_MAX): only
 * the ones chooseWorldFolder can pick are, the top's, `world/`'s, and the first other folder's (picked
 * when it is the only one). `kept` holds the folders already kept; the caller adds `folder` when true.
 * An upload of a thousand folders each with a large level.dat would otherwise hold them all.
 */
export function keepsLevelDat(folder: string, kept: ReadonlySet<string>): boolean {
  if (kept.has(folder)) return false;
  return folder === '' || folder === 'world' || ![...kept].some((f) => f !== '' && f !== 'world');
}

/** Folders named in a refusal: a few, then how many more. */
const FOLDERS_SHOWN = 5;

export function chooseWorldFolder(folders: readonly string[]): string {
  if (folders.length === 0) {
    throw new WorldUploadError(400, 'the upload holds no level.dat at its top or one folder down; upload the world folder (the one with level.dat in it), or an archive of it');
  }
  if (folders.includes('')) return '';
  if (folders.length === 1) return folders[0]!;
  if (folders.includes('world')) return 'world';
  const shown = folders.slice(0, FOLDERS_SHOWN).map((f) => `${f.slice(0, 60)}/level.dat`).join(', ');
  const more = folders.length > FOLDERS_SHOWN ? ` and ${folders.length - FOLDERS_SHOWN} more` : '';
  throw new WorldUploadError(400, `the upload holds several worlds (${shown}${more}); upload one world folder`);
}

/**
 * Checks that `bytes` is a Java Edition level.dat: gzip, then big-endian NBT whose root compound
 * holds a `Data` compound. Throws a WorldUploadError (400) naming what is wrong.
 */
export function checkLevelDat(bytes: Buffer, where: string): void {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new WorldUploadError(400, `${where} is not gzip-compressed, so it is not a Minecraft level.dat`);
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes, { maxOutputLength: 64 << 20 });
  } catch (err) {
    throw new WorldUploadError(400, `${where} is not a whole gzip file (${(err as Error).message}); it is not a readable level.dat`, { cause: err });
  }
  // Walked, not parsed into objects: a few KB of gzip can hold millions of empty tags (nbt-shape.ts).
  let hasData: boolean;
  try {
    hasData = nbtHasDataCompound(raw);
  } catch (err) {
    if (!(err instanceof NbtShapeError)) throw err;
    throw new WorldUploadError(400, `${where} is not NBT data (${err.message.slice(0, 200)}); it is not a readable level.dat`, { cause: err });
  }
  if (!hasData) {
    throw new WorldUploadError(400, `${where} is NBT but has no Data compound; it is not a Minecraft Java level.dat`);
  }
}
