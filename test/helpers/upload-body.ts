import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import nbt from 'prismarine-nbt';
import { ZipFile } from 'yazl';
import { TEST_TOKEN } from './api.js';

/** A real Java level.dat: gzip of big-endian NBT with a Data compound, as the game writes one. */
export function levelDat(name: string): Buffer {
  return gzipSync(nbt.writeUncompressed({ type: 'compound', name: '', value: { Data: { type: 'compound', value: { LevelName: { type: 'string', value: name } } } } }));
}

export interface UploadAnswer {
  status: number;
  body: { error?: string; uploaded?: { id: string; name: string; next: boolean; chosen: boolean }; folder?: string; bytes?: number };
}

/** POSTs `body` as server `world`'s upload; `chunked` leaves out Content-Length so only the streamed count can stop it. */
export function postUpload(url: string, body: Buffer, o: { type: string; chunked?: boolean }): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': o.type };
    if (!o.chunked) headers['content-length'] = String(body.length);
    const req = request(new URL('/api/servers/world/worlds/upload', url), { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as UploadAnswer['body'] }));
      res.on('error', reject);
    });
    // A refusal before the whole body is sent may close the connection under the rest of it: the answer is what counts.
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 64 << 10) req.write(body.subarray(i, i + (64 << 10)));
    req.end();
  });
}

export type ZipEntry = { name: string; body?: Buffer; directory?: boolean; mode?: number; compress?: boolean };

/**
 * A .zip made with yazl, entry by entry (a `mode` such as 0o120777 makes a symbolic link's entry, as
 * Info-ZIP writes one); `zip64` writes the Zip64 end records (as zippers do past 65,535 entries or 4 GB).
 */
export async function makeZip(entries: ZipEntry[], o: { zip64?: boolean } = {}): Promise<Buffer> {
  const zip = new ZipFile();
  for (const e of entries) {
    if (e.directory) zip.addEmptyDirectory(e.name);
    else zip.addBuffer(e.body ?? Buffer.alloc(0), e.name, { ...(e.mode === undefined ? {} : { mode: e.mode }), compress: e.compress ?? true });
  }
  zip.end({ forceZip64Format: o.zip64 ?? false, comment: '' });
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Offsets of a zip's end-of-central-directory record and of each central header, for tests that damage a zip on purpose. */
export function zipLayout(zip: Buffer): { eocd: number; centralOffset: number; centralSize: number; headers: { offset: number; name: string; local: number }[] } {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const centralSize = zip.readUInt32LE(eocd + 12);
  const centralOffset = zip.readUInt32LE(eocd + 16);
  const headers: { offset: number; name: string; local: number }[] = [];
  for (let at = centralOffset; at < centralOffset + centralSize; ) {
    const nameLength = zip.readUInt16LE(at + 28);
    headers.push({ offset: at, name: zip.toString('latin1', at + 46, at + 46 + nameLength), local: zip.readUInt32LE(at + 42) });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return { eocd, centralOffset, centralSize, headers };
}

/**
 * A copy of `zip` with the named entry's fields changed in its central header (what readers trust) and,
 * for the flags, in its local header too: `flags` are OR-ed in, the rest replace the field.
 */
export function patchZipEntry(zip: Buffer, name: string, patch: { flags?: number; method?: number; crc?: number; uncompressedSize?: number }): Buffer {
  const out = Buffer.from(zip);
  const header = zipLayout(out).headers.find((h) => h.name === name);
  if (!header) throw new Error(`the zip has no entry ${name}`);
  const at = header.offset;
  if (patch.flags !== undefined) {
    out.writeUInt16LE(out.readUInt16LE(at + 8) | patch.flags, at + 8);
    out.writeUInt16LE(out.readUInt16LE(header.local + 6) | patch.flags, header.local + 6);
  }
  if (patch.method !== undefined) out.writeUInt16LE(patch.method, at + 10);
  if (patch.crc !== undefined) out.writeUInt32LE(patch.crc, at + 16);
  if (patch.uncompressedSize !== undefined) out.writeUInt32LE(patch.uncompressedSize, at + 24);
  return out;
}

/** Replaces every occurrence of `from` by `to` (same length): names no honest zipper writes (`../`, `/tmp/…`), in both headers. */
export function renameInZip(zip: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('renameInZip keeps offsets: the names must be as long');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from, 'latin1');
  for (let at = out.indexOf(needle); at !== -1; at = out.indexOf(needle, at + 1)) Buffer.from(to, 'latin1').copy(out, at);
  return out;
}

/** A copy of a Zip64 `zip` whose end record says it holds `count` entries (the 16-bit field of a plain zip cannot say more than 65,535). */
export function withZip64EntryCount(zip: Buffer, count: number): Buffer {
  const out = Buffer.from(zip);
  const at = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
  if (at === -1) throw new Error('the zip has no Zip64 end of central directory record');
  out.writeBigUInt64LE(BigInt(count), at + 24);
  out.writeBigUInt64LE(BigInt(count), at + 32);
  return out;
}
