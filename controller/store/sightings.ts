import type { Db } from './db.js';

export interface Sighting {
  player: string;
  firstSeen: number;
  lastSeen: number;
}

/** Which player names were seen online on which server, first and last. */
export class SightingRepo {
  constructor(private readonly db: Db) {}

  saw(server: string, players: readonly string[], now: number): void {
    const upsert = this.db.prepare(
      `INSERT INTO sightings (server, player, first_seen, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (server, player) DO UPDATE SET last_seen = excluded.last_seen`,
    );
    this.db.transaction(() => players.forEach((p) => upsert.run(server, p, now, now)))();
  }

  list(server: string): Sighting[] {
    return this.db
      .prepare('SELECT player, first_seen AS firstSeen, last_seen AS lastSeen FROM sightings WHERE server = ? ORDER BY last_seen DESC')
      .all(server) as Sighting[];
  }
}
