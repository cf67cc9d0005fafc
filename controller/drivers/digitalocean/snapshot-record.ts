import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncPath, writeFileDurably } from '../../fs/durable.js';

/**
 * What OoD knows about the snapshot of the current droplet, kept in one small file written durably:
 * - `pending`: a snapshot was (about to be) asked for; after a crash OoD finds that action again
 *   instead of asking for a second snapshot.
 * - `saved`: the snapshot of droplet `dropletId` completed and was seen listed. It speaks only for that
 *   droplet as it was then: powering the droplet on or starting the game forgets it first (invariant 7).
 */
export interface SnapshotRecord {
  pending?: { dropletId: number; name: string; askedAt: number; actionId?: number };
  saved?: { dropletId: number; snapshotId: string; name: string; sizeGigabytes: number };
}

export class SnapshotRecordFile {
  constructor(readonly path: string) {}

  /** A record that cannot be read counts as "nothing saved": the droplet is snapshotted again. */
  async read(): Promise<SnapshotRecord> {
    if (!existsSync(this.path)) return {};
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as SnapshotRecord;
      return typeof parsed === 'object' && parsed !== null ? parsed : {};
    } catch {
      return {};
    }
  }

  async write(record: SnapshotRecord): Promise<void> {
    await writeFileDurably(this.path, `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Forgets any record about `dropletId`, durably, before that droplet can change. */
  async forget(dropletId: number): Promise<boolean> {
    const record = await this.read();
    if (record.saved?.dropletId !== dropletId && record.pending?.dropletId !== dropletId) return false;
    await rm(this.path, { force: true });
    await fsyncPath(dirname(this.path));
    return true;
  }
}
