import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

/**
 * Web sessions, stored here with only a signed id in the cookie: logging out, or an admin removing a
 * person, ends the session on the server, not merely in one browser.
 */
export class SessionRepo {
  private readonly byId: Statement<[string], { data: string; expires_at: number }>;
  private readonly sweepExpired: Statement<[number, number]>;
  /**
   * Read on every request that carries a cookie, and written only through this repo: the rows last
   * read or written are kept (as text, so each reader parses its own copy), at most 10,000.
   */
  private readonly recent = new Map<string, { data: string; expiresAt: number }>();

  constructor(private readonly db: Db) {
    this.byId = db.prepare('SELECT data, expires_at FROM sessions WHERE id = ?');
    this.sweepExpired = db.prepare('DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)');
  }

  get(id: string, now: number): Record<string, unknown> | undefined {
    let row = this.recent.get(id);
    if (!row) {
      const found = this.byId.get(id);
      if (!found) return undefined;
      row = { data: found.data, expiresAt: found.expires_at };
      this.remember(id, row);
    }
    return row.expiresAt > now ? (JSON.parse(row.data) as Record<string, unknown>) : undefined;
  }

  private remember(id: string, row: { data: string; expiresAt: number }): void {
    if (this.recent.size >= 10_000 && !this.recent.has(id)) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(id, row);
  }

  /** Writes a session row. (`_now` is no longer needed: expired rows go in `sweep`.) */
  set(id: string, data: Record<string, unknown>, expiresAt: number, _now?: number): void {
    const identity = typeof data.identity === 'string' ? data.identity : null;
    const text = JSON.stringify(data);
    // Forgotten first: if the write fails, the next read goes to the database.
    this.recent.delete(id);
    this.db
      .prepare('INSERT INTO sessions (id, identity, data, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET identity = excluded.identity, data = excluded.data, expires_at = excluded.expires_at')
      .run(id, identity, text, expiresAt);
    this.remember(id, { data: text, expiresAt });
  }

  /**
   * Deletes up to `limit` expired rows (oldest first), so that one sweep is a short write however many
   * piled up; called now and then by the web app. Returns how many went.
   */
  sweep(now: number, limit = 1_000): number {
    return this.sweepExpired.run(now, limit).changes;
  }

  destroy(id: string): void {
    this.recent.delete(id);
    this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
  }

  /**
   * How many unexpired rows hold nobody logged in yet (logins in progress, invitations being opened),
   * counted up to `atMost`: a cheap look at a partial index, however many rows a flood wrote.
   */
  anonymous(now: number, atMost: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM sessions WHERE identity IS NULL AND expires_at > ? LIMIT ?)').get(now, atMost) as { n: number }).n;
  }

  /** Ends every session of one person. */
  endAllOf(identity: string): number {
    this.recent.clear();
    return this.db.prepare('DELETE FROM sessions WHERE identity = ?').run(identity).changes;
  }
}
