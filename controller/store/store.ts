import { AuditRepo } from './audit.js';
import { openDb, type Db } from './db.js';
import { JournalRepo } from './journal.js';
import { ServerRepo } from './servers.js';
import { SightingRepo } from './sightings.js';

/** Everything OoD remembers, in one SQLite file. */
export class Store {
  readonly servers: ServerRepo;
  readonly journal: JournalRepo;
  readonly audit: AuditRepo;
  readonly sightings: SightingRepo;

  constructor(readonly db: Db) {
    this.servers = new ServerRepo(db);
    this.journal = new JournalRepo(db);
    this.audit = new AuditRepo(db);
    this.sightings = new SightingRepo(db);
  }

  static open(path: string): Store {
    return new Store(openDb(path));
  }

  close(): void {
    this.db.close();
  }
}
