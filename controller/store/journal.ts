import type { Phase } from '../reconcile/types.js';
import type { Db } from './db.js';

export interface JournalEntry {
  id: number;
  server: string;
  phase: Phase;
  step: string;
  intentAt: number;
  detail: string | null;
  outcome: 'ok' | 'error' | 'interrupted' | null;
  outcomeAt: number | null;
  error: string | null;
}

/** A journal row as SQLite gives it (`SELECT *`). */
export interface JournalRow {
  id: number;
  server: string;
  phase: Phase;
  step: string;
  intent_at: number;
  detail: string | null;
  outcome: JournalEntry['outcome'];
  outcome_at: number | null;
  error: string | null;
}

export const journalEntryOf = (r: JournalRow): JournalEntry => ({
  id: r.id,
  server: r.server,
  phase: r.phase,
  step: r.step,
  intentAt: r.intent_at,
  detail: r.detail,
  outcome: r.outcome,
  outcomeAt: r.outcome_at,
  error: r.error,
});

/** The step journal: a row is written before each step (intent) and completed after (outcome). */
export class JournalRepo {
  constructor(private readonly db: Db) {}

  intent(server: string, phase: Phase, step: string, detail: string | null, now: number): number {
    const result = this.db
      .prepare('INSERT INTO journal (server, phase, step, intent_at, detail) VALUES (?, ?, ?, ?, ?)')
      .run(server, phase, step, now, detail);
    return Number(result.lastInsertRowid);
  }

  outcome(id: number, outcome: 'ok' | 'error', now: number, error: string | null = null, detail?: string): void {
    this.db
      .prepare('UPDATE journal SET outcome = ?, outcome_at = ?, error = ?, detail = COALESCE(?, detail) WHERE id = ?')
      .run(outcome, now, error, detail ?? null, id);
  }

  /** A row that is complete at once: a phase change or a note. */
  record(server: string, phase: Phase, step: string, detail: string, now: number): void {
    this.db
      .prepare("INSERT INTO journal (server, phase, step, intent_at, detail, outcome, outcome_at) VALUES (?, ?, ?, ?, ?, 'ok', ?)")
      .run(server, phase, step, now, detail, now);
  }

  /**
   * On start-up: intents with no outcome were cut off by a crash. They are marked `interrupted`;
   * the loop then observes the world again rather than trusting what it meant to do.
   */
  closeInterrupted(now: number): number {
    return this.db
      .prepare("UPDATE journal SET outcome = 'interrupted', outcome_at = ?, error = 'controller stopped during this step' WHERE outcome IS NULL")
      .run(now).changes;
  }

  list(server: string, limit = 200): JournalEntry[] {
    const rows = this.db
      .prepare('SELECT * FROM (SELECT * FROM journal WHERE server = ? ORDER BY id DESC LIMIT ?) ORDER BY id')
      .all(server, limit) as JournalRow[];
    return rows.map(journalEntryOf);
  }
}
