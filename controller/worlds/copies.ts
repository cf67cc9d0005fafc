import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArchiveError } from '../errors.js';
import type { ArchiveInfo } from '../drivers/driver.js';
import { archiveName, listArchives, nextArchiveTs, removePartials, writeVerifiedArchive, type ArchiveFacts } from '../drivers/local/archive.js';
import { archivesToPrune, readChosenArchive } from './chosen-archive.js';

/**
 * Copies of a world taken during play (issue 19 item 4): `<dataDir>/servers/<id>/copies/ood-<ts>.tar.gz`,
 * in the local driver's archive format (the world folder named by `level-name`, and server.properties),
 * so whatever reads an archive reads a copy. Each is written to a partial name, read back whole and
 * renamed (archive.ts writeVerifiedArchive): a listed copy is always a whole one.
 */
export function copiesDir(dataDir: string, id: string): string {
  return join(serverRoot(dataDir, id), 'copies');
}

const serverRoot = (dataDir: string, id: string) => join(dataDir, 'servers', id);

/** The good copies, newest first. */
export function listCopies(dataDir: string, id: string): Promise<ArchiveInfo[]> {
  return listArchives(copiesDir(dataDir, id));
}

export interface WrittenCopy extends ArchiveFacts {
  name: string;
}

/**
 * Stores the `.tar.gz` that `source` yields as the newest copy. `source` is consumed whole; when it
 * fails, or what it yielded does not read back as a whole archive, nothing is listed and the partial
 * file is gone. `signal` aborts a write that goes on too long (the caller's bound on the copy);
 * `sourceDone` rejects when what made the stream failed (tar's exit code), even if the bytes read well.
 */
export async function writeCopy(dataDir: string, id: string, source: Readable, now: number, options: { signal?: AbortSignal; sourceDone?: () => Promise<void> } = {}): Promise<WrittenCopy> {
  const { signal, sourceDone } = options;
  const dir = copiesDir(dataDir, id);
  await removePartials(dir);
  const name = archiveName(nextArchiveTs(now, await listCopies(dataDir, id)));
  const facts = await writeVerifiedArchive(join(dir, name), async (temp) => {
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(source, hashing, createWriteStream(temp, { mode: 0o600 }), ...(signal ? [{ signal }] : []));
    // Whoever made the stream (tar on a droplet) says whether it was all there, before it is named.
    await sourceDone?.();
    return { sha256: hash.digest('hex') };
  });
  if (facts.entries === 0) {
    await rm(join(dir, name), { force: true });
    throw new ArchiveError(`The copy of ${id}'s world holds no files; it was not kept`, true);
  }
  return { name, ...facts };
}

/**
 * Removes copies past the newest `keep`, never the one `chosen-world.json` names nor any newer one
 * (a restore of a copy holds it, as it holds an archive: chosen-archive.ts archivesToPrune).
 * Returns the names removed.
 */
export async function pruneCopies(dataDir: string, id: string, keep: number): Promise<string[]> {
  const doomed = archivesToPrune(await listCopies(dataDir, id), keep, readChosenArchive(serverRoot(dataDir, id)));
  for (const copy of doomed) await rm(join(copiesDir(dataDir, id), copy.name), { force: true });
  return doomed.map((c) => c.name);
}
