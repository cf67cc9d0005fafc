import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

/** `console`: the game's live log and its command line on the server page (issue 21). */
export type Permission = 'start' | 'stop' | 'console' | 'admin';
export const PERMISSIONS: readonly Permission[] = ['start', 'stop', 'console', 'admin'];

export interface Person {
  /** `<provider>:<id>`, like `github:583231`; `local:admin` for the one-time link's admin. */
  identity: string;
  name: string | null;
  avatar: string | null;
  permissions: readonly Permission[];
  /** The Minecraft name this person plays as (for waking a server by joining it). */
  minecraftName: string | null;
  addedAt: number;
  addedBy: string;
  lastLogin: number | null;
}

interface PersonRow {
  identity: string;
  name: string | null;
  avatar: string | null;
  can_start: number;
  can_stop: number;
  can_console: number;
  is_admin: number;
  minecraft_name: string | null;
  added_at: number;
  added_by: string;
  last_login: number | null;
}

const fromRow = (r: PersonRow): Person => ({
  identity: r.identity,
  name: r.name,
  avatar: r.avatar,
  permissions: PERMISSIONS.filter((p) => ({ start: r.can_start, stop: r.can_stop, console: r.can_console, admin: r.is_admin })[p] === 1),
  minecraftName: r.minecraft_name,
  addedAt: r.added_at,
  addedBy: r.added_by,
  lastLogin: r.last_login,
});

/** An admin may do everything; everyone else what they were given. */
export function may(person: Pick<Person, 'permissions'>, permission: Permission): boolean {
  return person.permissions.includes(permission) || person.permissions.includes('admin');
}

/** A Minecraft name already linked to someone else. */
export class NameTakenError extends Error {
  constructor(readonly minecraftName: string, readonly holder: string) {
    super(`the Minecraft name ${minecraftName} is already linked to ${holder}`);
    this.name = 'NameTakenError';
  }
}

/** A change that would leave nobody able to manage people (the People page, invites). */
export class LastAdminError extends Error {
  constructor(readonly identity: string) {
    super(`${identity} is the last admin; make someone else an admin first`);
    this.name = 'LastAdminError';
  }
}

/** Who may use the web pages, and for what. */
export class PeopleRepo {
  private readonly byIdentity: Statement<[string], PersonRow>;
  /**
   * Read on every logged-in request, written rarely and only by this process (the controller owns the
   * database; the CLI goes through its API): kept in memory, and forgotten on every write.
   */
  private readonly known = new Map<string, Person | null>();

  constructor(private readonly db: Db) {
    this.byIdentity = db.prepare('SELECT * FROM people WHERE identity = ?');
  }

  get(identity: string): Person | undefined {
    let person = this.known.get(identity);
    if (person === undefined) {
      const row = this.byIdentity.get(identity);
      person = row ? Object.freeze(fromRow(row)) : null;
      if (this.known.size >= 10_000) this.known.clear();
      this.known.set(identity, person);
    }
    return person ?? undefined;
  }

  private wrote(): void {
    this.known.clear();
  }

  list(): Person[] {
    return (this.db.prepare('SELECT * FROM people ORDER BY is_admin DESC, COALESCE(name, identity) COLLATE NOCASE').all() as PersonRow[]).map(fromRow);
  }

  admins(): Person[] {
    return this.list().filter((p) => p.permissions.includes('admin'));
  }

  /** Adds a person, or gives an existing one exactly these permissions; never takes admin from the last admin. */
  put(identity: string, permissions: readonly Permission[], by: string, now: number): Person {
    const flags = { start: +permissions.includes('start'), stop: +permissions.includes('stop'), console: +permissions.includes('console'), admin: +permissions.includes('admin') };
    this.db.transaction(() => {
      if (!flags.admin) this.keepAnAdminBesides(identity);
      this.wrote();
      this.db
        .prepare(
          `INSERT INTO people (identity, can_start, can_stop, can_console, is_admin, added_at, added_by) VALUES (@identity, @start, @stop, @console, @admin, @now, @by)
           ON CONFLICT (identity) DO UPDATE SET can_start = @start, can_stop = @stop, can_console = @console, is_admin = @admin`,
        )
        .run({ identity, ...flags, now, by });
    })();
    return this.get(identity)!;
  }

  /** Throws LastAdminError when `identity` is an admin and nobody else is (checked inside the caller's transaction). */
  private keepAnAdminBesides(identity: string): void {
    const isAdmin = this.db.prepare('SELECT 1 FROM people WHERE identity = ? AND is_admin = 1').get(identity) !== undefined;
    if (isAdmin && this.db.prepare('SELECT 1 FROM people WHERE is_admin = 1 AND identity <> ? LIMIT 1').get(identity) === undefined) throw new LastAdminError(identity);
  }

  /** The admins named in the config: added when missing, made admin when not; never taken away here. */
  ensureAdmins(identities: readonly string[], now: number): void {
    this.wrote();
    const add = this.db.prepare("INSERT INTO people (identity, is_admin, added_at, added_by) VALUES (?, 1, ?, 'config') ON CONFLICT (identity) DO UPDATE SET is_admin = 1");
    this.db.transaction(() => identities.forEach((identity) => add.run(identity, now)))();
  }

  /** Removes a person (never the last admin); their sessions are ended by the caller in the same transaction. */
  remove(identity: string): boolean {
    return this.db.transaction(() => {
      this.keepAnAdminBesides(identity);
      this.wrote();
      return this.db.prepare('DELETE FROM people WHERE identity = ?').run(identity).changes === 1;
    })();
  }

  /** On each login: the provider's current name and avatar, and when. */
  loggedIn(identity: string, profile: { name: string | null; avatar: string | null }, now: number): void {
    this.wrote();
    this.db.prepare('UPDATE people SET name = COALESCE(?, name), avatar = ?, last_login = ? WHERE identity = ?').run(profile.name, profile.avatar, now, identity);
  }

  /** Links (or with null unlinks) a Minecraft name; a name is one person's at most. */
  linkMinecraft(identity: string, minecraftName: string | null): void {
    if (minecraftName !== null) {
      const holder = this.byMinecraftName(minecraftName);
      if (holder && holder.identity !== identity) throw new NameTakenError(minecraftName, holder.name ?? holder.identity);
    }
    this.wrote();
    this.db.prepare('UPDATE people SET minecraft_name = ? WHERE identity = ?').run(minecraftName, identity);
  }

  byMinecraftName(minecraftName: string): Person | undefined {
    const row = this.db.prepare('SELECT * FROM people WHERE minecraft_name = ?').get(minecraftName) as PersonRow | undefined;
    return row && fromRow(row);
  }
}
