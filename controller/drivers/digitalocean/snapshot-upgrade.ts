import type { Logger } from '../../log.js';
import type { OwnSnapshotRepo } from '../../store/own-snapshots.js';
import type { SnapshotEntry } from './snapshot-names.js';
import type { SnapshotRecord } from './snapshot-record.js';

/**
 * The upgrade to proven ownership. Before it, a server's snapshots were `<prefix>-<unix seconds>`, its own
 * by name alone. A server with no record yet adopts, once, those of them its own stops made: named in its
 * journal's snapshot steps or in its snapshot.json, and still listed. Anything else (a base image a build
 * made before the upgrade, a snapshot made by hand, another installation's) needs `ood snapshots adopt`.
 */
export function adoptUpgraded(o: { owned: OwnSnapshotRepo; server: string; listed: readonly SnapshotEntry[]; record: SnapshotRecord; now: number; log: Logger }): number {
  if (o.owned.list(o.server).length > 0) return 0;
  const made = new Set(o.owned.journalledStops(o.server).map((s) => `${s.snapshotId} ${s.name}`));
  if (o.record.saved) made.add(`${o.record.saved.snapshotId} ${o.record.saved.name}`);
  let adopted = 0;
  for (const s of o.listed) {
    // Both id and name must match what the stop wrote down: an id alone could be reused by nothing, but a
    // name alone is what another installation could also have made.
    if (!made.has(`${s.id} ${s.name}`)) continue;
    o.owned.record({ server: o.server, snapshotId: s.id, name: s.name, createdAt: s.createdAt, source: 'upgrade' }, o.now);
    o.log.warn({ snapshot: s.name, id: s.id }, 'Adopted a snapshot named the old way: this server’s own stops made it (journal or snapshot.json)');
    adopted++;
  }
  return adopted;
}
