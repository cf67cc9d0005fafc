import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { entryProblem, keepsLevelDat, LEVEL_DAT_MAX, levelDatFolder, segments, unpackedTooLarge, WorldUploadError } from './upload-checks.js';

/**
 * Uploaded worlds as `.zip` (issue 19 item 5), read with yauzl from the temp file the upload was
 * streamed to: it reads the central directory and one entry at a time through a file descriptor, so
 * memory stays flat whatever the zip's size. yauzl rather than a reader of our own: the format has
 * Zip64, CP437 and Info-ZIP Unicode names, data descriptors and a central directory that must agree
 * with local headers, and every one of those is a place a hand-written reader gets wrong; yauzl is
 * small (no dependencies but a CRC fallback), widely used, and checks each entry's inflated size
 * against what the directory declares, which is what makes a zip bomb visible before it inflates.
 *
 * The checks are upload-checks.ts's, the same as for a `.tar.gz` (entryProblem, levelDatFolder,
 * unpackedTooLarge); here only what a zip adds: entry kinds from Unix modes in the external
 * attributes, encrypted entries, compression methods yauzl cannot inflate, sizes that lie, CRC-32s
 * (yauzl does not check them), names given twice, and a damaged or truncated file.
 */

/** Content types the route accepts as a `.zip`. */
export const ZIP_TYPES = new Set(['application/zip', 'application/x-zip-compressed']);

/**
 * More entries than any world holds (a 20,000-block-wide world has ~15,000 region files in all its
 * dimensions); the names are kept to find duplicates, so their count bounds that memory.
 */
export const MAX_ZIP_ENTRIES = 200_000;

/** Files and folders the names make, the folders only implied by deeper names included (ZipNames). */
export const MAX_ZIP_PATHS = 2 * MAX_ZIP_ENTRIES;

/** What the scan found: the folders holding a level.dat (at the top `''` or one down) and each one's bytes. */
export interface ZipScan {
  folders: string[];
  levelDats: Map<string, Buffer>;
}

/** A link's target is its data; a longer one is not read for the message. */
const LINK_SHOWN = 1024;

/** Unix file types in the top 16 bits of the external attributes (made on Unix, or on OS X by some zippers). */
const UNIX_TYPES: Record<number, string> = {
  0o120000: 'SymbolicLink',
  0o020000: 'CharacterDevice',
  0o060000: 'BlockDevice',
  0o010000: 'FIFO',
  0o140000: 'Socket',
};

/** The entry's name as the zip means it (yauzl decodes CP437, UTF-8 and Info-ZIP Unicode paths; `\` becomes `/`). */
function nameOf(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
}

/** The entry's kind in node-tar's words, so entryProblem judges it as it judges a tar entry. */
function kindOf(entry: Entry, name: string): string {
  const madeOnUnix = [3, 19].includes(entry.versionMadeBy >> 8);
  const special = madeOnUnix ? UNIX_TYPES[(entry.externalFileAttributes >>> 16) & 0o170000] : undefined;
  return special ?? (name.endsWith('/') ? 'Directory' : 'File');
}

/** A path in the zip's tree: given by an entry of its own (`given`), or only implied as the folder of others. */
interface NameNode {
  kind: 'file' | 'folder';
  given: boolean;
  children?: Map<string, NameNode>;
}

/**
 * Names seen so far: a name given twice, or a file where another entry needs a folder, is refused (which
 * one would the world get?). A tree of segments, so each entry costs in proportion to its name: keys of
 * every ancestor (`a`, `a/a`, `a/a/a`…) would cost the square of its depth, 100 M characters for one
 * 20 KB name, and a zip of such names would take the controller down.
 */
class ZipNames {
  private readonly root: NameNode = { kind: 'folder', given: false };
  /** Paths in the tree, given or implied: bounds its memory whatever the names (a path is at most PATH_MAX bytes). */
  private paths = 0;

  private add(parent: NameNode, segment: string, node: NameNode): NameNode {
    if (++this.paths > MAX_ZIP_PATHS) throw new WorldUploadError(400, `the zip's names make more than ${MAX_ZIP_PATHS} files and folders; no world has that many`);
    (parent.children ??= new Map()).set(segment, node);
    return node;
  }

  problem(name: string, folder: boolean): string | undefined {
    const parts = segments(name);
    const shown = JSON.stringify(name.slice(0, 200)).slice(1, -1);
    let node = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const child = node.children?.get(parts[i]!) ?? this.add(node, parts[i]!, { kind: 'folder', given: false });
      if (child.kind === 'file') return `entry ${shown} is inside ${parts.slice(0, i + 1).join('/')}, which the zip also holds as a file`;
      node = child;
    }
    const last = parts.at(-1);
    if (last === undefined) return undefined;
    const seen = node.children?.get(last);
    const kind = folder ? 'folder' : 'file';
    if (seen?.given) return `entry ${shown} is in the zip twice; a world holds each file once`;
    if (seen && seen.kind !== kind) return `entry ${shown} is a file in the zip and also a folder of other entries`;
    if (seen) seen.given = true;
    else this.add(node, last, { kind, given: true });
    return undefined;
  }
}

/** yauzl's own words for a file it cannot read as a zip: a plain Error, unlike the file system's (with a code). */
function notAZip(err: unknown): WorldUploadError {
  return new WorldUploadError(400, `the upload is not a whole .zip file (${(err as Error).message.slice(0, 200)}); send it again, or check the file`, { cause: err });
}

/** Rethrows file system errors (a full disk is the controller's problem, not the upload's); turns the rest into a 400. */
function asUploadError(err: unknown, wrap: (err: Error) => WorldUploadError): never {
  if (err instanceof WorldUploadError) throw err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && !code.startsWith('Z_')) throw err;
  throw wrap(err as Error);
}

async function openZip(file: string): Promise<ZipFile> {
  try {
    // Names are decoded here (nameOf) so entryProblem words every refusal; yauzl's own check would stop at the first with its words.
    return await yauzl.openPromise(file, { autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    return asUploadError(err, notAZip);
  }
}

/** Every entry, each already checked for what a zip can get wrong before its data is read. */
async function* checkedEntries(zip: ZipFile, maxUnpacked: number): AsyncGenerator<{ entry: Entry; name: string; kind: string }> {
  if (zip.entryCount > MAX_ZIP_ENTRIES) throw new WorldUploadError(400, `the zip holds ${zip.entryCount} entries, more than ${MAX_ZIP_ENTRIES}; no world has that many files`);
  const names = new ZipNames();
  let declared = 0;
  const entries = zip.eachEntry();
  for (;;) {
    let next: IteratorResult<Entry>;
    try {
      next = await entries.next();
    } catch (err) {
      return asUploadError(err, notAZip);
    }
    if (next.done) return;
    const entry = next.value;
    const name = nameOf(entry);
    const kind = kindOf(entry, name);
    const shown = JSON.stringify(name.slice(0, 200)).slice(1, -1);
    const problem = entryProblem(name, kind) ?? names.problem(name, kind === 'Directory');
    if (problem) {
      // A link's target is its data: named in the refusal as for a tar's link, when it can be read.
      const readable = kind === 'SymbolicLink' && !entry.isEncrypted() && entry.canDecodeFileData() && entry.uncompressedSize <= LINK_SHOWN;
      throw new WorldUploadError(400, readable ? entryProblem(name, kind, await linkTarget(zip, entry, shown))! : problem);
    }
    if (entry.isEncrypted()) throw new WorldUploadError(400, `entry ${shown} is encrypted; zip the world again without a password`);
    if (!entry.canDecodeFileData()) throw new WorldUploadError(400, `entry ${shown} is compressed with zip method ${entry.compressionMethod}, which OoD cannot read; zip the world again with deflate (the usual method)`);
    // Declared sizes are what yauzl holds each entry's data to, so a bomb is refused before it inflates.
    declared += entry.uncompressedSize;
    if (declared > maxUnpacked) throw unpackedTooLarge(maxUnpacked);
    yield { entry, name, kind };
  }
}

/** The zip's CRC-32 (IEEE) by table, for Node before 20.15, which has no zlib.crc32 (package.json allows 20.11). */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32: (data: Buffer, value: number) => number =
  typeof zlib.crc32 === 'function'
    ? zlib.crc32
    : (data, value) => {
        let c = ~value;
        for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
        return ~c >>> 0;
      };

/** Checks the data's CRC-32 as it passes (yauzl does not): a changed byte is refused, not stored. */
function crcCheck(entry: Entry, shown: string): Transform {
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      crc = crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      done(crc >>> 0 === entry.crc32 ? null : new WorldUploadError(400, `entry ${shown} is damaged (its CRC-32 does not match its data); send the zip again, or check the file`));
    },
  });
}

/** Pipes an entry's checked data into `sink`; yauzl's size errors and zlib's become a 400 naming the entry. */
async function readEntry(zip: ZipFile, entry: Entry, shown: string, sink: Writable): Promise<void> {
  try {
    await pipeline(await zip.openReadStreamPromise(entry), crcCheck(entry, shown), sink);
  } catch (err) {
    asUploadError(err, (e) =>
      /bytes in the stream/.test(e.message)
        ? new WorldUploadError(400, `entry ${shown} does not hold the size the zip declares for it (${e.message}); the zip is damaged or made to mislead`, { cause: e })
        : /local file header|file data overflows|unexpected EOF/.test(e.message)
          ? notAZip(e)
          : new WorldUploadError(400, `entry ${shown} cannot be inflated (${e.message.slice(0, 200)}); the zip is damaged`, { cause: e }),
    );
  }
}

/** Keeps what passes through (`keep`) or drops it; the data is read and checked either way. */
function collect(keep: boolean): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (keep) chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

/** A symbolic link's target (at most LINK_SHOWN bytes, as declared and enforced), for the message that refuses it. */
async function linkTarget(zip: ZipFile, entry: Entry, shown: string): Promise<string> {
  const target = collect(true);
  await readEntry(zip, entry, shown, target.sink);
  return target.bytes().toString('utf8');
}

/**
 * Reads the zip through once: every entry checked, every file's data inflated and its size and CRC-32
 * checked (in constant memory: only level.dat candidates are kept, and they are small), so a zip that
 * passes unpacks whole. Throws WorldUploadError (400) naming the first problem.
 */
export async function scanZip(file: string, maxUnpacked: number): Promise<ZipScan> {
  const out: ZipScan = { folders: [], levelDats: new Map() };
  const kept = new Set<string>();
  const zip = await openZip(file);
  try {
    for await (const { entry, name, kind } of checkedEntries(zip, maxUnpacked)) {
      const shown = JSON.stringify(name.slice(0, 200)).slice(1, -1);
      // As for a tar: a level.dat past LEVEL_DAT_MAX is not one, and is not read into memory.
      const folder = entry.uncompressedSize <= LEVEL_DAT_MAX ? levelDatFolder(name, kind) : undefined;
      if (kind === 'Directory' && entry.uncompressedSize === 0) continue;
      const keep = folder !== undefined && keepsLevelDat(folder, kept);
      if (keep) kept.add(folder);
      const data = collect(keep);
      await readEntry(zip, entry, shown, data.sink);
      if (folder === undefined) continue;
      out.folders.push(folder);
      if (keep) out.levelDats.set(folder, data.bytes());
    }
  } finally {
    zip.close();
  }
  return out;
}

/**
 * Unpacks the entries under `folder` (`''`: all) into `into`, which exists and is empty, with the
 * folder's own name stripped. Run only on a zip scanZip passed; the checks run again all the same,
 * and no path is written outside `into`. Files get mode 0644, folders 0755: a zip's modes are not kept.
 */
export async function extractZipFolder(file: string, into: string, folder: string): Promise<void> {
  const zip = await openZip(file);
  try {
    for await (const { entry, name, kind } of checkedEntries(zip, Infinity)) {
      const parts = segments(name);
      if (folder !== '' && parts[0] !== folder) continue;
      const inside = folder === '' ? parts : parts.slice(1);
      if (inside.length === 0) continue;
      const path = join(into, ...inside);
      const within = relative(into, path);
      if (within === '' || within.startsWith(`..${sep}`) || within === '..') throw new WorldUploadError(400, `entry ${name.slice(0, 200)} would be unpacked outside the world folder`);
      if (kind === 'Directory') {
        await mkdir(path, { recursive: true, mode: 0o755 });
        continue;
      }
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await readEntry(zip, entry, JSON.stringify(name.slice(0, 200)).slice(1, -1), createWriteStream(path, { flags: 'wx', mode: 0o644 }));
    }
  } finally {
    zip.close();
  }
}
