import { dropletCharge, type Price } from '../cost/billing.js';
import type { Db } from './db.js';
import { journalEntryOf, type JournalEntry, type JournalRow } from './journal.js';

/**
 * One life of a server's host, as people would tell it: who started it, who played, how long it ran,
 * what it cost, which snapshot or archive it ended in, and, behind that, the journal of its steps.
 */
export interface TimelineSession {
  startedAt: number;
  /** null while the host still exists. */
  endedAt: number | null;
  /** The first request to start in the quiet before this session (audit), or null when none is recorded. */
  startedBy: { actor: string; name: string | null; at: number } | null;
  /** Why it ended: a person's stop request, the idle policy, or null (not recorded, or still running). */
  endedBy: { actor: string; name: string | null } | 'idle' | null;
  /**
   * Player names seen online during the session. Sightings keep each name's first and last time only,
   * so a name seen both before and after a session counts for it too, unless nobody played in it at all.
   */
  players: string[];
  playerSeconds: number;
  driver: string;
  size: string | null;
  /** DigitalOcean's charge for the droplet; null on the local driver or without the size's price. */
  usd: number | null;
  /** The snapshot or archive its stop made, by name; null when it has not ended in one (yet). */
  endedIn: string | null;
  /** Its journal rows, oldest first (at most JOURNAL_PER_SESSION, the newest). */
  journal: JournalEntry[];
}

export interface Timeline {
  /** Newest first. */
  sessions: TimelineSession[];
  /** Journal rows after the last session that started no host (a refused or failed start), oldest first. */
  since: JournalEntry[];
}

const JOURNAL_PER_SESSION = 300;

/** A snapshot step's detail names what it made: the local driver's archive, DigitalOcean's snapshot. */
const SAVED_AS = /(?:Archived to|Already archived as|Snapshot) (\S+)/;

/** The newest `limit` sessions of `server`, read from billing sessions, the audit log, sightings and the journal. */
export function sessionTimeline(db: Db, server: string, o: { now: number; prices: ReadonlyMap<string, Price>; limit?: number }): Timeline {
  const rows = db
    .prepare('SELECT driver, size, started_at, ended_at, player_seconds FROM billing_sessions WHERE server = ? ORDER BY started_at DESC, id DESC LIMIT ?')
    .all(server, (o.limit ?? 20) + 1) as { driver: string; size: string | null; started_at: number; ended_at: number | null; player_seconds: number }[];
  // One more than shown: the oldest shown session's journal starts where the one before it ended.
  const shown = rows.slice(0, o.limit ?? 20).reverse();
  const before = rows.length > shown.length ? rows.at(-1)!.ended_at ?? 0 : 0;
  const nameOf = (identity: string) => (db.prepare('SELECT name FROM people WHERE identity = ?').get(identity) as { name: string | null } | undefined)?.name ?? null;
  const journal = (after: number, upTo: number) =>
    (db
      .prepare('SELECT * FROM (SELECT * FROM journal WHERE server = ? AND intent_at > ? AND intent_at <= ? ORDER BY id DESC LIMIT ?) ORDER BY id')
      .all(server, after, upTo, JOURNAL_PER_SESSION) as JournalRow[]).map(journalEntryOf);
  const sightings = db.prepare('SELECT player, first_seen, last_seen FROM sightings WHERE server = ? ORDER BY player').all(server) as { player: string; first_seen: number; last_seen: number }[];

  const sessions: TimelineSession[] = [];
  let quietFrom = before;
  for (const r of shown) {
    const end = r.ended_at ?? o.now;
    const start = db
      .prepare("SELECT actor, at FROM audit WHERE server = ? AND action = 'start' AND at > ? AND at <= ? ORDER BY id LIMIT 1")
      .get(server, quietFrom, r.started_at) as { actor: string; at: number } | undefined;
    const stop = db
      .prepare("SELECT actor FROM audit WHERE server = ? AND action = 'stop' AND at > ? AND at <= ? ORDER BY id LIMIT 1")
      .get(server, r.started_at, end) as { actor: string } | undefined;
    const steps = journal(quietFrom, r.ended_at ?? Number.MAX_SAFE_INTEGER);
    const idle = steps.some((e) => e.step === 'idle_stop' && e.outcome === 'ok');
    const price = r.size ? o.prices.get(r.size) : undefined;
    sessions.push({
      startedAt: r.started_at,
      endedAt: r.ended_at,
      startedBy: start ? { actor: start.actor, name: nameOf(start.actor), at: start.at } : null,
      endedBy: stop ? { actor: stop.actor, name: nameOf(stop.actor) } : idle ? 'idle' : null,
      players: r.ended_at !== null && r.player_seconds === 0 ? [] : sightings.filter((s) => s.first_seen <= end && s.last_seen >= r.started_at).map((s) => s.player),
      playerSeconds: r.player_seconds,
      driver: r.driver,
      size: r.size,
      usd: price ? dropletCharge((end - r.started_at) / 1000, price) : null,
      endedIn: r.ended_at === null ? null : savedAs(db, server, steps),
      journal: steps,
    });
    quietFrom = r.ended_at ?? Number.MAX_SAFE_INTEGER;
  }
  return { sessions: sessions.reverse(), since: quietFrom === Number.MAX_SAFE_INTEGER ? [] : journal(quietFrom, Number.MAX_SAFE_INTEGER) };
}

/** The name of what the session's last successful snapshot step made: OoD's own record first, else the step's words. */
function savedAs(db: Db, server: string, steps: readonly JournalEntry[]): string | null {
  const step = steps.findLast((e) => e.step === 'snapshot' && e.outcome === 'ok');
  if (!step) return null;
  const own = db.prepare('SELECT name FROM own_snapshots WHERE server = ? AND journal_id = ? ORDER BY recorded_at DESC LIMIT 1').get(server, step.id) as { name: string } | undefined;
  return own?.name ?? SAVED_AS.exec(step.detail ?? '')?.[1] ?? null;
}
