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

  /**
   * The addresses (distinct) that people on the list who may start servers now (can_start or admin)
   * logged into the web pages from at or after `since`: the lobby's wakeFrom. A login by anyone else,
   * such as a stranger with an account at a configured provider, does not count.
   */
  starterLoginSources(since: number): string[] {
    const rows = this.db
      .prepare(
        `SELECT DISTINCT a.source FROM audit a JOIN people p ON p.identity = a.actor
         WHERE a.action = 'login' AND a.at >= ? AND (p.can_start = 1 OR p.is_admin = 1)`,
      )
      .all(since) as { source: string }[];
    return rows.map((r) => r.source);
  }

  /** The outcome rows of lobby wakes on `server` at or after `since`, newest first (the cool-down). */
  wakeOutcomesSince(server: string, since: number): AuditEntry[] {
    return this.db
      .prepare(`SELECT at, actor, source, action, server, detail FROM audit WHERE action = 'wake outcome' AND at >= ? AND server = ? ORDER BY id DESC`)
      .all(since, server) as AuditEntry[];
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
