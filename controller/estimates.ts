import { journalJson } from './api/journal-json.js';
import { typicalDuration } from './cli/eta.js';
import type { JournalRepo } from './store/journal.js';

export interface Estimate {
  /** The median of past starts (archived → running), ms; undefined before the first. */
  start: number | undefined;
  /** The median of past stops (running → archived), ms. */
  stop: number | undefined;
}

/**
 * How long a server's starts and stops usually take, from its journal: what the web's progress bar and
 * the lobby's "ready in about 70 s" say. Read again only when the server changes phase.
 */
export class Estimates {
  private readonly known = new Map<string, { phaseSince: number; estimate: Estimate }>();

  constructor(private readonly journal: JournalRepo) {}

  of(id: string, phaseSince: number): Estimate {
    const kept = this.known.get(id);
    if (kept?.phaseSince === phaseSince) return kept.estimate;
    const rows = this.journal.list(id).map(journalJson);
    const estimate = { start: typicalDuration(rows, 'running'), stop: typicalDuration(rows, 'archived') };
    this.known.set(id, { phaseSince, estimate });
    return estimate;
  }
}
