import { StoreError } from '../errors.js';
import type { Desired, Phase, Progress, ServerState } from '../reconcile/types.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

/** A row as better-sqlite3's raw mode gives it, in the order of COLUMNS. */
type ServerRow = [
  id: string,
  desired: Desired,
  desiredAt: number,
  desiredBy: string,
  requests: number,
  phase: Phase,
  phaseSince: number,
  address: string | null,
  lastError: string | null,
  readyAt: number | null,
  emptySince: number | null,
  keepAliveUntil: number | null,
  progress: string,
];
const COLUMNS = 'id, desired, desired_at, desired_by, requests, phase, phase_since, address, last_error, ready_at, empty_since, keep_alive_until, progress';

function frozen(state: ServerState): ServerState {
  Object.freeze(state.progress);
  return Object.freeze(state);
}

function fromRow([id, desired, desiredAt, desiredBy, requests, phase, phaseSince, address, lastError, readyAt, emptySince, keepAliveUntil, progress]: ServerRow): ServerState {
  return { id, desired, desiredAt, desiredBy, requests, phase, phaseSince, address, lastError, readyAt, emptySince, keepAliveUntil, progress: JSON.parse(progress) as Progress };
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

/**
 * The `servers` table. Statements are prepared once, when the repo is made: preparing one costs more
 * than running it, and each reconcile tick and API request runs several. Rows are read as arrays
 * (raw mode), which halves the cost of `list` against better-sqlite3 building an object per row.
 *
 * Every write to `servers` on this connection goes through this repo (see `wrote`), which is what
 * lets `list` keep its last answer.
 */
export class ServerRepo {
  private readonly insert: Statement<[string, number, number]>;
  private readonly byId: Statement<[string], ServerRow>;
  private readonly all: Statement<[], ServerRow>;
  private readonly desiredOf: Statement<[string], { desired: Desired }>;
  private readonly updateDesired: Statement<[Desired, number, string, Desired, string]>;
  private readonly updateProgress: Statement<[string, string, Phase]>;
  private readonly updateIdle: Statement<[number | null, string]>;
  private readonly updateKeepAlive: Statement<[number, string]>;
  private readonly updateLastError: Statement<[string | null, string]>;
  /** `move`'s UPDATE, by the columns it sets. */
  private readonly moves = new Map<string, Statement<[Record<string, unknown>]>>();
  /** Changes whenever another connection commits (SQLite's own counter). */
  private readonly dataVersion: Statement<[], number>;
  /** Writes made through this repo; with `dataVersion`, tells whether `listed` still holds. */
  private writes = 0;
  private listed: { writes: number; version: number; states: readonly ServerState[] } | undefined;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO servers (id, desired, desired_at, desired_by, phase, phase_since)
       VALUES (?, 'down', ?, 'config', 'archived', ?)`,
    );
    this.byId = db.prepare<[string], ServerRow>(`SELECT ${COLUMNS} FROM servers WHERE id = ?`).raw(true);
    this.all = db.prepare<[], ServerRow>(`SELECT ${COLUMNS} FROM servers ORDER BY id`).raw(true);
    this.desiredOf = db.prepare('SELECT desired FROM servers WHERE id = ?');
    this.updateDesired = db.prepare(
      `UPDATE servers SET desired = ?, desired_at = ?, desired_by = ?, requests = requests + 1,
         keep_alive_until = CASE WHEN ? = 'down' THEN NULL ELSE keep_alive_until END
       WHERE id = ?`,
    );
    this.updateProgress = db.prepare('UPDATE servers SET progress = ? WHERE id = ? AND phase = ?');
    this.updateIdle = db.prepare('UPDATE servers SET empty_since = ? WHERE id = ?');
    this.updateKeepAlive = db.prepare('UPDATE servers SET keep_alive_until = ? WHERE id = ?');
    this.updateLastError = db.prepare('UPDATE servers SET last_error = ? WHERE id = ?');
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck(true);
  }

  /** Adds a row for each configured server that has none; new servers start archived and wanted down. */
  ensure(ids: readonly string[], now: number): void {
    this.wrote();
    this.db.transaction(() => ids.forEach((id) => this.insert.run(id, now, now)))();
  }

  get(id: string): ServerState | undefined {
    const row = this.byId.get(id);
    return row && fromRow(row);
  }

  /**
   * Every server, in one query. The API lists them all on each request, so the last answer is kept
   * while no write came since, from this repo or another connection. Its states are frozen, being
   * shared between callers. Inside a transaction the rows may hold writes not committed yet (and
   * perhaps never): those are read afresh and never kept.
   */
  list(): ServerState[] {
    if (this.db.inTransaction) return this.all.all().map(fromRow);
    const version = this.dataVersion.get()!;
    if (this.listed?.writes !== this.writes || this.listed.version !== version) {
      this.listed = { writes: this.writes, version, states: this.all.all().map((row) => frozen(fromRow(row))) };
    }
    return [...this.listed.states];
  }

  /** Called before every write: the kept `list` answer no longer holds, whether the write commits or not. */
  private wrote(): void {
    this.writes++;
  }

  /**
   * Sets what people (or the idle policy) want, and when. The time is written even when the wanted
   * state is unchanged: asking again is how a person resumes a failed server. Returns whether it changed.
   */
  setDesired(id: string, desired: Desired, by: string, now: number): boolean {
    return this.db.transaction(() => {
      const before = this.desiredOf.get(id);
      if (!before) throw new StoreError(`No server ${id} in the store`);
      this.wrote();
      this.updateDesired.run(desired, now, by, desired, id);
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
    const sql = `UPDATE servers SET ${sets.join(', ')} WHERE id = @id AND phase = @from`;
    let statement = this.moves.get(sql);
    if (!statement) this.moves.set(sql, (statement = this.db.prepare(sql)));
    this.wrote();
    const result = statement.run(params);
    if (result.changes !== 1) throw new StoreError(`Server ${id} was not in phase ${from}; it was not moved to ${to}`);
  }

  setProgress(id: string, phase: Phase, progress: Progress): void {
    this.wrote();
    this.updateProgress.run(JSON.stringify(progress), id, phase);
  }

  setIdle(id: string, emptySince: number | null): void {
    this.wrote();
    this.updateIdle.run(emptySince, id);
  }

  setKeepAlive(id: string, until: number): void {
    this.wrote();
    this.updateKeepAlive.run(until, id);
  }

  setLastError(id: string, message: string | null): void {
    this.wrote();
    this.updateLastError.run(message, id);
  }
}
