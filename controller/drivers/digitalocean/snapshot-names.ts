import type { Snapshot } from './api/types.js';

/** A snapshot as OoD reads it from the API's list. */
export interface SnapshotEntry {
  id: string;
  name: string;
  sizeGigabytes: number;
  /** DigitalOcean's `created_at` (ms): the order of snapshots, whatever clock named them. */
  createdAt: number;
}

export interface OwnSnapshot extends SnapshotEntry {
  /** Unix seconds of `createdAt`. */
  ts: number;
}

/** Whose snapshots: names are `<base>-<installation>-<server>-<unix seconds>`. */
export interface SnapshotScope {
  /** `digitalocean.snapshotPrefix`, else `ood`: never derived from how many servers the config has. */
  base: string;
  /** `installationId(dataDir)`: another installation on the same account has another. */
  installation: string;
  server: string;
}

/** A server's scope: `snapshotPrefix` or `ood`, never `ood-<id>` because the config has grown a second server. */
export function snapshotScopeOf(server: { id: string; digitalocean: { snapshotPrefix?: string | undefined } }, installation: string): SnapshotScope {
  return { base: server.digitalocean.snapshotPrefix ?? 'ood', installation, server: server.id };
}

export const fromApi = (s: Snapshot): SnapshotEntry => ({ id: s.id, name: s.name, sizeGigabytes: s.size_gigabytes, createdAt: Date.parse(s.created_at) });

/** `ood-1a2b3c4d-survival-1764000000`. */
export function snapshotName(scope: SnapshotScope, unixSeconds: number): string {
  return `${scope.base}-${scope.installation}-${scope.server}-${unixSeconds}`;
}

/** The unix seconds in a name of this scope, or undefined when the name is not of this scope. */
function secondsInName(name: string, scope: SnapshotScope): number | undefined {
  const head = `${scope.base}-${scope.installation}-${scope.server}-`;
  if (!name.startsWith(head)) return undefined;
  const tail = name.slice(head.length);
  return /^\d{9,11}$/.test(tail) ? Number(tail) : undefined;
}

/**
 * This server's snapshots, newest first by DigitalOcean's `created_at` (a name carries the clock of
 * whoever made it, which may have run ahead). A snapshot is the server's own only when OoD can prove it:
 * its name holds this installation's id and the server's id, or the store records it (made by a stop, or
 * adopted by an admin). Anything else, `ood-<unix seconds>` included, belongs to somebody else.
 */
export function ownSnapshots(all: readonly SnapshotEntry[], scope: SnapshotScope, recordedIds: ReadonlySet<string>): OwnSnapshot[] {
  const own = all.filter((s) => recordedIds.has(s.id) || secondsInName(s.name, scope) !== undefined).map((s) => ({ ...s, ts: Math.floor(s.createdAt / 1000) }));
  return own.sort((a, b) => b.createdAt - a.createdAt || Number(b.id) - Number(a.id));
}

/** The seconds for a new snapshot's name: the clock, but never before a listed one's name or creation. */
export function nextSnapshotSeconds(nowMs: number, own: readonly OwnSnapshot[], scope: SnapshotScope): number {
  let newest = 0;
  for (const s of own) newest = Math.max(newest, s.ts, secondsInName(s.name, scope) ?? 0);
  return Math.max(Math.floor(nowMs / 1000), own.length ? newest + 1 : 0);
}

/**
 * Which of the server's snapshots a prune deletes: all but the newest `keep`, and never a protected one
 * (the last stop's, the one a running droplet was built from, the one just confirmed).
 */
export function snapshotsToPrune(own: readonly OwnSnapshot[], keep: number, protectedIds: ReadonlySet<string>): OwnSnapshot[] {
  return own.slice(keep).filter((s) => !protectedIds.has(s.id));
}
