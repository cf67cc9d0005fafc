import type { AuditEntry } from './audit.js';
import type { Db } from './db.js';

/** The audit action of a login by someone on nobody's list (a listed person's login stays `login`). */
export const LOGIN_REFUSED = 'login refused: not on the list';

const DAY = 24 * 60 * 60_000;

/**
 * How long audit rows are kept. Refused logins cost a stranger only an account at a provider, so they
 * are kept shorter and fewer, and can never push out the rows of the people on the list.
 */
export const AUDIT_RETENTION = { keepMs: 90 * DAY, maxRows: 100_000, refusedKeepMs: 7 * DAY, refusedMaxRows: 10_000 };

/**
 * Deletes up to `batch` audit rows past the retention, oldest first, so that one call is a short write
 * however many piled up (the web's minute sweep calls it). Returns how many went.
 */
export function pruneAudit(db: Db, now: number, batch = 1_000): number {
  const r = AUDIT_RETENTION;
  const steps: [string, unknown[]][] = [
    ['SELECT id FROM audit WHERE at < ? ORDER BY id LIMIT ?', [now - r.keepMs]],
    ['SELECT id FROM audit WHERE action = ? AND at < ? LIMIT ?', [LOGIN_REFUSED, now - r.refusedKeepMs]],
    ['SELECT id FROM audit WHERE action = ? ORDER BY at DESC LIMIT ? OFFSET ?', [LOGIN_REFUSED, '@', r.refusedMaxRows]],
    ['SELECT id FROM audit ORDER BY id DESC LIMIT ? OFFSET ?', ['@', r.maxRows]],
  ];
  let gone = 0;
  for (const [select, params] of steps) {
    const left = batch - gone;
    if (left <= 0) break;
    // '@' marks where the batch goes among the parameters; a trailing LIMIT takes it last.
    const args = params.includes('@') ? params.map((p) => (p === '@' ? left : p)) : [...params, left];
    gone += db.prepare(`DELETE FROM audit WHERE id IN (${select})`).run(...args).changes;
  }
  return gone;
}

/** The admin page's audit view: the newest rows without refused logins, and how many of those came in the last 7 days. */
export function adminAudit(db: Db, now: number, limit = 100): { entries: AuditEntry[]; refusedLogins: number } {
  const entries = db.prepare('SELECT at, actor, source, action, server, detail FROM audit WHERE action != ? ORDER BY id DESC LIMIT ?').all(LOGIN_REFUSED, limit) as AuditEntry[];
  const { n } = db.prepare('SELECT COUNT(*) AS n FROM audit WHERE action = ? AND at >= ?').get(LOGIN_REFUSED, now - 7 * DAY) as { n: number };
  return { entries, refusedLogins: n };
}
