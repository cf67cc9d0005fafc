import type { JournalEntry } from '../store/journal.js';

/** The API's shape of a journal row (`ood history`, the web's estimates read the same). */
export function journalJson(e: JournalEntry) {
  return {
    id: e.id,
    phase: e.phase,
    step: e.step,
    intentAt: new Date(e.intentAt).toISOString(),
    outcome: e.outcome,
    outcomeAt: e.outcomeAt === null ? null : new Date(e.outcomeAt).toISOString(),
    detail: e.detail,
    error: e.error,
  };
}
