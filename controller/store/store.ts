import { AuditRepo } from './audit.js';
import { BillingRepo } from './billing.js';
import { openDb, type Db } from './db.js';
import { JournalRepo } from './journal.js';
import { OneTimeTokenRepo } from './one-time-tokens.js';
import { OwnSnapshotRepo } from './own-snapshots.js';
import { PeopleRepo } from './people.js';
import { ServerRepo } from './servers.js';
import { SessionRepo } from './sessions.js';
import { SightingRepo } from './sightings.js';

/** Everything OoD remembers, in one SQLite file. */
export class Store {
  readonly servers: ServerRepo;
  readonly journal: JournalRepo;
  readonly audit: AuditRepo;
  readonly sightings: SightingRepo;
  readonly people: PeopleRepo;
  readonly tokens: OneTimeTokenRepo;
  readonly sessions: SessionRepo;
  readonly billing: BillingRepo;
  readonly ownSnapshots: OwnSnapshotRepo;

  constructor(readonly db: Db) {
    this.servers = new ServerRepo(db);
    this.journal = new JournalRepo(db);
    this.audit = new AuditRepo(db);
    this.sightings = new SightingRepo(db);
    this.people = new PeopleRepo(db);
    this.tokens = new OneTimeTokenRepo(db);
    this.sessions = new SessionRepo(db);
    this.billing = new BillingRepo(db);
    this.ownSnapshots = new OwnSnapshotRepo(db);
  }

  static open(path: string): Store {
    return new Store(openDb(path));
  }

  close(): void {
    this.db.close();
  }
}
