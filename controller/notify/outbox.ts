import type { Db } from '../store/db.js';
import type { Target } from './messages.js';

/** Where a row goes: a configured notification target, or the edits of one Discord message (controller/discord/followups.ts). */
export type OutboxTarget = Target | `discord-edit:${string}`;

/** One notification to one target, and what became of it. */
export interface OutboxRow {
  id: number;
  eventKey: string;
  target: OutboxTarget;
  payload: string;
  createdAt: number;
  /** Sends begun, counted when a row is claimed. */
  attempts: number;
  nextAt: number;
  sendingSince: number | null;
  deliveredAt: number | null;
  givenUpAt: number | null;
  lastError: string | null;
}

interface Row {
  id: number;
  event_key: string;
  target: OutboxTarget;
  payload: string;
  created_at: number;
  attempts: number;
  next_at: number;
  sending_since: number | null;
  delivered_at: number | null;
  given_up_at: number | null;
  last_error: string | null;
}

const fromRow = (r: Row): OutboxRow => ({
  id: r.id,
  eventKey: r.event_key,
  target: r.target,
  payload: r.payload,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAt: r.next_at,
  sendingSince: r.sending_since,
  deliveredAt: r.delivered_at,
  givenUpAt: r.given_up_at,
  lastError: r.last_error,
});

/** What a row left `sending` by a stopped controller is marked with. */
export const STOPPED_DURING_DELIVERY = 'controller stopped during delivery';

/**
 * Rows that may be sent now: pending, not being sent, due, and first in line for their target. One
 * message at a time per target keeps a chat in the order things happened ("up" never before
 * "starting"), and a rate limit or an outage of one target holds back only its own messages.
 */
const CLAIMABLE = `
  o.delivered_at IS NULL AND o.given_up_at IS NULL AND o.sending_since IS NULL
  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.target = o.target AND p.id < o.id AND p.delivered_at IS NULL AND p.given_up_at IS NULL)`;

/**
 * The outbox table: each notification once per target (its key is unique), claimed before it is
 * sent and closed with an outcome after. A row claimed but never closed was cut off by a stop of the
 * controller; it is given up rather than sent again, since the receiver may already have it.
 */
export class OutboxRepo {
  constructor(private readonly db: Db) {}

  /**
   * Adds a message, due at `notBefore` (default now); false when the same key already went to this
   * target (a repeat is a no-op).
   */
  enqueue(eventKey: string, target: OutboxTarget, payload: string, now: number, notBefore = now): boolean {
    const result = this.db
      .prepare('INSERT INTO outbox (event_key, target, payload, created_at, next_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_key, target) DO NOTHING')
      .run(eventKey, target, payload, now, Math.max(now, notBefore));
    return result.changes === 1;
  }

  /** Marks up to `limit` due rows as being sent (counting the attempt) and returns them, oldest first. */
  claimDue(now: number, limit: number): OutboxRow[] {
    if (limit <= 0) return [];
    return this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT * FROM outbox o WHERE ${CLAIMABLE} AND o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?`).all(now, limit) as Row[];
      const claim = this.db.prepare('UPDATE outbox SET sending_since = ?, attempts = attempts + 1 WHERE id = ? AND sending_since IS NULL');
      return rows.map((r) => {
        claim.run(now, r.id);
        return fromRow({ ...r, sending_since: now, attempts: r.attempts + 1 });
      });
    })();
  }

  /** When the next row becomes due (possibly already past), or undefined when nothing waits. */
  nextDue(): number | undefined {
    const row = this.db.prepare(`SELECT MIN(o.next_at) AS at FROM outbox o WHERE ${CLAIMABLE}`).get() as { at: number | null };
    return row.at ?? undefined;
  }

  delivered(id: number, now: number): void {
    this.close(id, 'UPDATE outbox SET delivered_at = ?, sending_since = NULL, last_error = NULL WHERE id = ? AND sending_since IS NOT NULL', now);
  }

  retryAt(id: number, nextAt: number, error: string): void {
    this.close(id, 'UPDATE outbox SET next_at = ?, sending_since = NULL, last_error = ? WHERE id = ? AND sending_since IS NOT NULL', nextAt, error);
  }

  givenUp(id: number, now: number, error: string): void {
    this.close(id, 'UPDATE outbox SET given_up_at = ?, sending_since = NULL, last_error = ? WHERE id = ? AND sending_since IS NOT NULL', now, error);
  }

  /**
   * On start-up: rows claimed by a controller that stopped before their outcome was written. The
   * receiver may have them already, so they are given up, never sent twice.
   */
  closeInterrupted(now: number): number {
    return this.db
      .prepare('UPDATE outbox SET given_up_at = ?, sending_since = NULL, last_error = ? WHERE sending_since IS NOT NULL AND delivered_at IS NULL AND given_up_at IS NULL')
      .run(now, STOPPED_DURING_DELIVERY).changes;
  }

  /** Forgets closed rows created before `before` (their keys can no longer come again). */
  prune(before: number): number {
    return this.db.prepare('DELETE FROM outbox WHERE created_at < ? AND (delivered_at IS NOT NULL OR given_up_at IS NOT NULL)').run(before).changes;
  }

  get(eventKey: string, target: OutboxTarget): OutboxRow | undefined {
    const row = this.db.prepare('SELECT * FROM outbox WHERE event_key = ? AND target = ?').get(eventKey, target) as Row | undefined;
    return row && fromRow(row);
  }

  list(): OutboxRow[] {
    return (this.db.prepare('SELECT * FROM outbox ORDER BY id').all() as Row[]).map(fromRow);
  }

  /** Writes an outcome for a row being sent; a row that is not (closed at start-up meanwhile) is left as it is. */
  private close(id: number, sql: string, ...args: (string | number)[]): void {
    this.db.prepare(sql).run(...args, id);
  }
}
