import type { Db } from './db.js';

/** A snapshot proven to be a server's own (see migration `own_snapshots`). */
export interface OwnSnapshotRecord {
  server: string;
  snapshotId: string;
  name: string;
  /** DigitalOcean's `created_at`, in ms. */
  createdAt: number;
  source: 'stop' | 'adopted' | 'upgrade';
  /** The journal row of the stop's snapshot step, when a stop made it. */
  journalId: number | null;
  recordedAt: number;
}

interface Row {
  server: string;
  snapshot_id: string;
  name: string;
  created_at: number;
  source: OwnSnapshotRecord['source'];
  journal_id: number | null;
  recorded_at: number;
}

const fromRow = (r: Row): OwnSnapshotRecord => ({
  server: r.server,
  snapshotId: r.snapshot_id,
  name: r.name,
  createdAt: r.created_at,
  source: r.source,
  journalId: r.journal_id,
  recordedAt: r.recorded_at,
});

export class OwnSnapshotRepo {
  constructor(private readonly db: Db) {}

  /**
   * Records `snapshotId` as `server`'s own (again: the latest record wins). A stop's record names the
   * journal row of the snapshot step in progress, so the journal tells which stop made which snapshot.
   */
  record(entry: Omit<OwnSnapshotRecord, 'journalId' | 'recordedAt'>, now: number): void {
    const journalId =
      entry.source === 'stop'
        ? ((this.db.prepare("SELECT id FROM journal WHERE server = ? AND step = 'snapshot' ORDER BY id DESC LIMIT 1").get(entry.server) as { id: number } | undefined)?.id ?? null)
        : null;
    this.db
      .prepare(
        `INSERT INTO own_snapshots (server, snapshot_id, name, created_at, source, journal_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (server, snapshot_id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at, source = excluded.source, journal_id = excluded.journal_id, recorded_at = excluded.recorded_at`,
      )
      .run(entry.server, entry.snapshotId, entry.name, entry.createdAt, entry.source, journalId, now);
  }

  list(server: string): OwnSnapshotRecord[] {
    return (this.db.prepare('SELECT * FROM own_snapshots WHERE server = ? ORDER BY recorded_at, rowid').all(server) as Row[]).map(fromRow);
  }

  /** The snapshot the server's last stop made (the newest record from a stop), or undefined. */
  lastStop(server: string): OwnSnapshotRecord | undefined {
    const row = this.db.prepare("SELECT * FROM own_snapshots WHERE server = ? AND source = 'stop' ORDER BY recorded_at DESC, rowid DESC LIMIT 1").get(server) as Row | undefined;
    return row && fromRow(row);
  }

  /** Which snapshots the server's stops reported in the journal (`Snapshot <name> (id <id>, …`): the upgrade's evidence. */
  journalledStops(server: string): { name: string; snapshotId: string }[] {
    const rows = this.db.prepare("SELECT detail FROM journal WHERE server = ? AND step = 'snapshot' AND outcome = 'ok' AND detail IS NOT NULL").all(server) as { detail: string }[];
    const found: { name: string; snapshotId: string }[] = [];
    for (const { detail } of rows) {
      const match = /Snapshot (\S+) \(id (\S+?), [^)]*\) of droplet \d+ (?:completed|was already confirmed)/.exec(detail) ?? /Snapshot (\S+) \(id (\S+?)[,)]/.exec(detail);
      if (match) found.push({ name: match[1]!, snapshotId: match[2]! });
    }
    return found;
  }
}
