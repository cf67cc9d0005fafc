/** A snapshot as OoD reads it from the API's list. */
export interface SnapshotEntry {
  id: string;
  name: string;
  sizeGigabytes: number;
}

export interface OwnSnapshot extends SnapshotEntry {
  /** Unix seconds from the name. */
  ts: number;
}

/** `ood-1764000000` for prefix `ood` at that second. */
export function snapshotName(prefix: string, unixSeconds: number): string {
  return `${prefix}-${unixSeconds}`;
}

/**
 * This server's snapshots, newest first: exactly `<prefix>-<unix seconds>`, so `ood-1764000000` is never
 * taken for `ood-survival-1764000000` or the other way round.
 */
export function ownSnapshots(all: readonly SnapshotEntry[], prefix: string): OwnSnapshot[] {
  const pattern = new RegExp(`^${prefix.replace(/[-]/g, '\\-')}-(\\d{9,11})$`);
  const own: OwnSnapshot[] = [];
  for (const snapshot of all) {
    const match = pattern.exec(snapshot.name);
    if (match) own.push({ ...snapshot, ts: Number(match[1]) });
  }
  return own.sort((a, b) => b.ts - a.ts || Number(b.id) - Number(a.id));
}

/**
 * Which of the server's snapshots a prune deletes: all but the newest `keep`, and never one a droplet
 * was built from while that droplet exists, nor the one just confirmed.
 */
export function snapshotsToPrune(own: readonly OwnSnapshot[], keep: number, protectedIds: ReadonlySet<string>): OwnSnapshot[] {
  return own.slice(keep).filter((s) => !protectedIds.has(s.id));
}
