import type { BilledSession, BilledSnapshot, Price } from '../cost/billing.js';
import type { Db } from './db.js';

/** What the cost meter records: hosts' lives, snapshots' lives, and the sizes' prices as last fetched. */
export class BillingRepo {
  constructor(private readonly db: Db) {}

  /** A host was created for `server` (a droplet of `size`, or a local directory with none). */
  open(server: string, driver: string, size: string | null, at: number): void {
    // One open session per server: a second open (a resume) keeps the first.
    if (this.current(server)) return;
    this.db.prepare('INSERT INTO billing_sessions (server, driver, size, started_at) VALUES (?, ?, ?, ?)').run(server, driver, size, at);
  }

  /** The host is gone. */
  close(server: string, at: number): void {
    this.db.prepare('UPDATE billing_sessions SET ended_at = ? WHERE server = ? AND ended_at IS NULL').run(at, server);
  }

  current(server: string): { id: number } | undefined {
    return this.db.prepare('SELECT id FROM billing_sessions WHERE server = ? AND ended_at IS NULL').get(server) as { id: number } | undefined;
  }

  addPlayerSeconds(server: string, seconds: number): void {
    this.db.prepare('UPDATE billing_sessions SET player_seconds = player_seconds + ? WHERE server = ? AND ended_at IS NULL').run(Math.round(seconds), server);
  }

  /** Sessions alive at any time since `from`. */
  sessionsSince(from: number): BilledSession[] {
    const rows = this.db
      .prepare('SELECT id, server, size, started_at, ended_at, player_seconds FROM billing_sessions WHERE ended_at IS NULL OR ended_at >= ? ORDER BY started_at')
      .all(from) as { id: number; server: string; size: string | null; started_at: number; ended_at: number | null; player_seconds: number }[];
    return rows.map((r) => ({ id: r.id, server: r.server, size: r.size, startedAt: r.started_at, endedAt: r.ended_at, playerSeconds: r.player_seconds }));
  }

  /** Brings the recorded snapshots of `server` in line with what exists now: new ones added, vanished ones ended. */
  syncSnapshots(server: string, existing: readonly { name: string; sizeGb: number; createdAt: number }[], now: number): void {
    const add = this.db.prepare('INSERT INTO billing_snapshots (name, server, size_gb, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET size_gb = excluded.size_gb, deleted_at = NULL');
    const open = this.db.prepare('SELECT name FROM billing_snapshots WHERE server = ? AND deleted_at IS NULL').all(server) as { name: string }[];
    const gone = this.db.prepare('UPDATE billing_snapshots SET deleted_at = ? WHERE name = ?');
    const names = new Set(existing.map((s) => s.name));
    this.db.transaction(() => {
      for (const s of existing) add.run(s.name, server, s.sizeGb, s.createdAt);
      for (const { name } of open) if (!names.has(name)) gone.run(now, name);
    })();
  }

  snapshotsSince(from: number): BilledSnapshot[] {
    const rows = this.db.prepare('SELECT name, server, size_gb, created_at, deleted_at FROM billing_snapshots WHERE deleted_at IS NULL OR deleted_at >= ?').all(from) as {
      name: string;
      server: string;
      size_gb: number;
      created_at: number;
      deleted_at: number | null;
    }[];
    return rows.map((r) => ({ name: r.name, server: r.server, sizeGb: r.size_gb, createdAt: r.created_at, deletedAt: r.deleted_at }));
  }

  savePrices(prices: ReadonlyMap<string, Price>, at: number): void {
    const put = this.db.prepare('INSERT INTO prices (size, price_hourly, price_monthly, fetched_at) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO UPDATE SET price_hourly = excluded.price_hourly, price_monthly = excluded.price_monthly, fetched_at = excluded.fetched_at');
    this.db.transaction(() => prices.forEach((p, size) => put.run(size, p.hourly, p.monthly, at)))();
  }

  prices(): { prices: Map<string, Price>; fetchedAt: number | null } {
    const rows = this.db.prepare('SELECT size, price_hourly, price_monthly, fetched_at FROM prices').all() as { size: string; price_hourly: number; price_monthly: number; fetched_at: number }[];
    return { prices: new Map(rows.map((r) => [r.size, { hourly: r.price_hourly, monthly: r.price_monthly }])), fetchedAt: rows.length ? Math.min(...rows.map((r) => r.fetched_at)) : null };
  }
}
