import { StoreError } from '../errors.js';
import type { Desired, Phase, Progress, ServerState } from '../reconcile/types.js';
import type { Db } from './db.js';

interface ServerRow {
  id: string;
  desired: Desired;
  desired_at: number;
  desired_by: string;
  phase: Phase;
  phase_since: number;
  address: string | null;
  last_error: string | null;
  ready_at: number | null;
  empty_since: number | null;
  keep_alive_until: number | null;
  progress: string;
  requests: number;
}

function fromRow(row: ServerRow): ServerState {
  return {
    id: row.id,
    desired: row.desired,
    desiredAt: row.desired_at,
    desiredBy: row.desired_by,
    requests: row.requests,
    phase: row.phase,
    phaseSince: row.phase_since,
    address: row.address,
    lastError: row.last_error,
    readyAt: row.ready_at,
    emptySince: row.empty_since,
    keepAliveUntil: row.keep_alive_until,
    progress: JSON.parse(row.progress) as Progress,
  };
}

/** Fields a phase change may set alongside the phase. */
export interface PhaseChange {
  address?: string | null;
  lastError?: string | null;
  readyAt?: number | null;
  emptySince?: number | null;
  keepAliveUntil?: number | null;
  /** The new phase's scratch state; empty unless given. */
  progress?: Progress;
}

export class ServerRepo {
  constructor(private readonly db: Db) {}

  /** Adds a row for each configured server that has none; new servers start archived and wanted down. */
  ensure(ids: readonly string[], now: number): void {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO servers (id, desired, desired_at, desired_by, phase, phase_since)
       VALUES (?, 'down', ?, 'config', 'archived', ?)`,
    );
    this.db.transaction(() => ids.forEach((id) => insert.run(id, now, now)))();
  }

  get(id: string): ServerState | undefined {
    const row = this.db.prepare('SELECT * FROM servers WHERE id = ?').get(id) as ServerRow | undefined;
    return row && fromRow(row);
  }

  list(): ServerState[] {
    return (this.db.prepare('SELECT * FROM servers ORDER BY id').all() as ServerRow[]).map(fromRow);
  }

  /**
   * Sets what people (or the idle policy) want, and when. The time is written even when the wanted
   * state is unchanged: asking again is how a person resumes a failed server. Returns whether it changed.
   */
  setDesired(id: string, desired: Desired, by: string, now: number): boolean {
    return this.db.transaction(() => {
      const before = this.db.prepare('SELECT desired FROM servers WHERE id = ?').get(id) as { desired: Desired } | undefined;
      if (!before) throw new StoreError(`No server ${id} in the store`);
      this.db
        .prepare(
          `UPDATE servers SET desired = ?, desired_at = ?, desired_by = ?, requests = requests + 1,
             keep_alive_until = CASE WHEN ? = 'down' THEN NULL ELSE keep_alive_until END
           WHERE id = ?`,
        )
        .run(desired, now, by, desired, id);
      return before.desired !== desired;
    })();
  }

  /**
   * Moves `id` from phase `from` to `to`. Conditional, so two writers can never both move it:
   * throws when the row was not in `from`.
   */
  move(id: string, from: Phase, to: Phase, now: number, change: PhaseChange = {}): void {
    const sets = ['phase = @to', 'phase_since = @now', 'progress = @progress'];
    const params: Record<string, unknown> = { id, from, to, now, progress: JSON.stringify(change.progress ?? {}) };
    const columns: Record<Exclude<keyof PhaseChange, 'progress'>, string> = {
      address: 'address',
      lastError: 'last_error',
      readyAt: 'ready_at',
      emptySince: 'empty_since',
      keepAliveUntil: 'keep_alive_until',
    };
    for (const [key, column] of Object.entries(columns) as [Exclude<keyof PhaseChange, 'progress'>, string][]) {
      if (key in change) {
        sets.push(`${column} = @${key}`);
        params[key] = change[key] ?? null;
      }
    }
    const result = this.db.prepare(`UPDATE servers SET ${sets.join(', ')} WHERE id = @id AND phase = @from`).run(params);
    if (result.changes !== 1) throw new StoreError(`Server ${id} was not in phase ${from}; it was not moved to ${to}`);
  }

  setProgress(id: string, phase: Phase, progress: Progress): void {
    this.db.prepare('UPDATE servers SET progress = ? WHERE id = ? AND phase = ?').run(JSON.stringify(progress), id, phase);
  }

  setIdle(id: string, emptySince: number | null): void {
    this.db.prepare('UPDATE servers SET empty_since = ? WHERE id = ?').run(emptySince, id);
  }

  setKeepAlive(id: string, until: number): void {
    this.db.prepare('UPDATE servers SET keep_alive_until = ? WHERE id = ?').run(until, id);
  }

  setLastError(id: string, message: string | null): void {
    this.db.prepare('UPDATE servers SET last_error = ? WHERE id = ?').run(message, id);
  }
}
