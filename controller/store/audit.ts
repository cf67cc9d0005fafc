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

  list(limit = 200): AuditEntry[] {
    return this.db.prepare('SELECT at, actor, source, action, server, detail FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditEntry[];
  }
}
