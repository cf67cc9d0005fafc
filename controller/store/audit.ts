import type { Db } from './db.js';

export interface AuditEntry {
  at: number;
  actor: string;
  source: string;
  action: string;
  server: string | null;
  detail: string | null;
}

/** Who asked for what, from where. Rows are only ever added. */
export class AuditRepo {
  constructor(private readonly db: Db) {}

  add(entry: AuditEntry): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, source, action, server, detail) VALUES (@at, @actor, @source, @action, @server, @detail)')
      .run(entry);
  }

  /** One server's requests, newest first. */
  forServer(server: string, limit = 200): AuditEntry[] {
    return this.db.prepare('SELECT at, actor, source, action, server, detail FROM audit WHERE server = ? ORDER BY id DESC LIMIT ?').all(server, limit) as AuditEntry[];
  }

  /** Whether any of `sources` logged into the web pages at or after `since` (the lobby's wakeFrom). */
  loggedInFrom(sources: readonly string[], since: number): boolean {
    const marks = sources.map(() => '?').join(', ');
    return this.db.prepare(`SELECT 1 FROM audit WHERE action = 'login' AND at >= ? AND source IN (${marks}) LIMIT 1`).get(since, ...sources) !== undefined;
  }

  /** The newest outcome `detail` of a lobby wake on `server` by `actor` or from `source`, at or after `since`. */
  lastWakeOutcome(server: string, actor: string, source: string, since: number): AuditEntry | undefined {
    return this.db
      .prepare(`SELECT at, actor, source, action, server, detail FROM audit WHERE action = 'wake outcome' AND at >= ? AND server = ? AND (actor = ? OR source = ?) ORDER BY id DESC LIMIT 1`)
      .get(since, server, actor, source) as AuditEntry | undefined;
  }

  /** The newest lobby wake of `server` that has no outcome row yet (one that was under way when the controller stopped). */
  openLobbyWake(server: string): AuditEntry | undefined {
    return this.db
      .prepare(
        `SELECT at, actor, source, action, server, detail FROM audit w WHERE action = 'start' AND server = ? AND detail = 'joined the lobby'
           AND NOT EXISTS (SELECT 1 FROM audit o WHERE o.action = 'wake outcome' AND o.server = w.server AND o.id > w.id)
         ORDER BY id DESC LIMIT 1`,
      )
      .get(server) as AuditEntry | undefined;
  }

  list(limit = 200): AuditEntry[] {
    return this.db.prepare('SELECT at, actor, source, action, server, detail FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditEntry[];
  }
}
