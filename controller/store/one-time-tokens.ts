import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export type TokenKind = 'invite' | 'login';

/** Why a token did not work, said to the person holding it. */
export type TokenRefusal = 'unknown' | 'used' | 'expired';

export interface PendingToken {
  hash: string;
  kind: TokenKind;
  payload: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Invitations and one-time login links: a random token given out once, of which only the hash is
 * kept, so a copy of the database opens no door. A token works once, until it expires.
 */
export class OneTimeTokenRepo {
  constructor(private readonly db: Db) {}

  create(kind: TokenKind, payload: string, by: string, now: number, ttlMs: number): string {
    const token = randomBytes(24).toString('base64url');
    this.db
      .prepare('INSERT INTO one_time_tokens (token_hash, kind, payload, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(hashOf(token), kind, payload, now, by, now + ttlMs);
    return token;
  }

  /** What a token would give, without using it; a refusal when it would not work. */
  peek(kind: TokenKind, token: string, now: number): { payload: string } | { refused: TokenRefusal } {
    const row = this.db.prepare('SELECT payload, expires_at, used_at FROM one_time_tokens WHERE token_hash = ? AND kind = ?').get(hashOf(token), kind) as
      | { payload: string; expires_at: number; used_at: number | null }
      | undefined;
    if (!row) return { refused: 'unknown' };
    if (row.used_at !== null) return { refused: 'used' };
    if (row.expires_at <= now) return { refused: 'expired' };
    return { payload: row.payload };
  }

  /** Uses a token: exactly one of any number of concurrent callers gets its payload. */
  use(kind: TokenKind, token: string, by: string, now: number): { payload: string } | { refused: TokenRefusal } {
    const used = this.db
      .prepare('UPDATE one_time_tokens SET used_at = ?, used_by = ? WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ? RETURNING payload')
      .get(now, by, hashOf(token), kind, now) as { payload: string } | undefined;
    return used ?? this.peek(kind, token, now);
  }

  pending(kind: TokenKind, now: number): PendingToken[] {
    const rows = this.db
      .prepare('SELECT token_hash, kind, payload, created_at, created_by, expires_at FROM one_time_tokens WHERE kind = ? AND used_at IS NULL AND expires_at > ? ORDER BY created_at')
      .all(kind, now) as { token_hash: string; kind: TokenKind; payload: string; created_at: number; created_by: string; expires_at: number }[];
    return rows.map((r) => ({ hash: r.token_hash, kind: r.kind, payload: r.payload, createdAt: r.created_at, createdBy: r.created_by, expiresAt: r.expires_at }));
  }

  /** Withdraws a pending token by its hash (the admin page shows hashes, never tokens). */
  revoke(hash: string, now: number, by: string): boolean {
    return this.db.prepare("UPDATE one_time_tokens SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL").run(now, `revoked by ${by}`, hash).changes === 1;
  }
}
