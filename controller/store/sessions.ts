import type { Db } from './db.js';

/**
 * Web sessions, stored here with only a signed id in the cookie: logging out, or an admin removing a
 * person, ends the session on the server, not merely in one browser.
 */
export class SessionRepo {
  private writes = 0;

  constructor(private readonly db: Db) {}

  get(id: string, now: number): Record<string, unknown> | undefined {
    const row = this.db.prepare('SELECT data FROM sessions WHERE id = ? AND expires_at > ?').get(id, now) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as Record<string, unknown>) : undefined;
  }

  set(id: string, data: Record<string, unknown>, expiresAt: number, now: number): void {
    const identity = typeof data.identity === 'string' ? data.identity : null;
    this.db
      .prepare('INSERT INTO sessions (id, identity, data, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET identity = excluded.identity, data = excluded.data, expires_at = excluded.expires_at')
      .run(id, identity, JSON.stringify(data), expiresAt);
    // Expired rows go now and then, not on every write.
    if (++this.writes % 100 === 1) this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
  }

  destroy(id: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
  }

  /** Ends every session of one person. */
  endAllOf(identity: string): number {
    return this.db.prepare('DELETE FROM sessions WHERE identity = ?').run(identity).changes;
  }
}
