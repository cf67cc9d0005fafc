import { join } from 'node:path';
import type { ArchiveInfo } from '../drivers/driver.js';
import type { OwnSnapshot } from '../drivers/digitalocean/snapshot-names.js';
import type { StartImage } from '../drivers/digitalocean/start-image.js';
import type { TimelineSession } from '../store/session-timeline.js';
import { startCandidates, type ChosenArchive } from './chosen-archive.js';

/**
 * Every world version OoD keeps for a server, newest first: local archives, DigitalOcean snapshots and
 * copies (copies off the cloud, uploads), each with the session it closed and which one the next start uses.
 *
 * Invariants kept here and by the drivers (issue 19 item 6, beside DESIGN.md's list):
 * - Pruning never deletes a chosen version, nor any version newer than it, until a host started from
 *   the chosen version has been saved again; nor a pinned one (an adopted snapshot).
 * - A restore only records a choice: it never deletes or rewrites the version it replaces, or any other.
 * - A restore is accepted only while the server is archived (no host), so the choice never races a
 *   host that is about to be saved as a newer version.
 * - The version the next start uses is one decision (`startCandidates` locally; on DigitalOcean a
 *   standing copy choice, else the start image, else the newest snapshot: do-world-choice.ts), read by
 *   provision, boot and this list alike.
 * - A world is never started from an upload or copy that did not verify: only an archive read back whole
 *   is renamed into `archives/` or `copies/`, and a copy pushed to a droplet is read through here and
 *   checked there (size, sha256) before it replaces anything; the world it replaces is moved aside on
 *   the droplet, never deleted (world-push.ts).
 * - A copy during play never leaves saving off unseen: a durable marker is written before `save-off` and
 *   removed only once `save-on` is confirmed; every tick while it stays turns saving on again.
 * - A download never reads a version being written: archives and copies are listed only once renamed
 *   into place after being read back whole (archive.ts), snapshots never downloaded at all.
 */

/** `local copy`: a copy off the cloud (or a local server's backup) in `servers/<id>/copies/` (copy-versions.ts). */
export type VersionWhere = 'local archive' | 'DigitalOcean snapshot' | 'local copy';

/** Who played the session a version closed. */
export interface VersionSession {
  /** ms */
  started: number;
  /** A person's name or the actor that asked for the start; null when no request is recorded. */
  by: string | null;
  players: string[];
  /** Seconds from start to end. */
  duration: number;
}

export interface WorldVersion {
  /** Stable and URL-safe: `ood-<ts>` for a local archive, `do-<snapshot id>` for a snapshot, `copy-<ts>` for a copy. */
  id: string;
  /** The archive's file name or the snapshot's name. */
  name: string;
  /** When it was made, ms. */
  time: number;
  bytes: number;
  where: VersionWhere;
  session: VersionSession | null;
  /** The next start boots this one. */
  next: boolean;
  /** An admin chose it (a restore) and that choice is not spent yet. */
  chosen: boolean;
  /** Never pruned (an adopted DigitalOcean snapshot). */
  pinned: boolean;
  /** Local archives and copies only: the file, for readers on this machine (never sent to clients). */
  file?: string;
  /** DigitalOcean only: the snapshot id. */
  snapshotId?: string;
}

/** The sessions that ended in a version, by the version's name. */
function sessionsByName(sessions: readonly TimelineSession[]): Map<string, VersionSession> {
  const out = new Map<string, VersionSession>();
  for (const s of sessions) {
    if (s.endedIn === null || s.endedAt === null || out.has(s.endedIn)) continue;
    out.set(s.endedIn, {
      started: s.startedAt,
      by: s.startedBy ? (s.startedBy.name ?? s.startedBy.actor) : null,
      players: s.players,
      duration: Math.round((s.endedAt - s.startedAt) / 1000),
    });
  }
  return out;
}

export const localVersionId = (archiveName: string) => archiveName.replace(/\.tar\.gz$/, '');
export const snapshotVersionId = (snapshotId: string) => `do-${snapshotId}`;

/** A local server's versions: its good archives in `archiveDir` (listArchives order: newest first). */
export function localVersions(o: { archives: readonly ArchiveInfo[]; archiveDir: string; chosen: ChosenArchive | null; sessions: readonly TimelineSession[] }): WorldVersion[] {
  const sessions = sessionsByName(o.sessions);
  const next = startCandidates(o.archives, o.chosen)[0]?.name;
  return o.archives.map((a) => ({
    id: localVersionId(a.name),
    name: a.name,
    time: a.ts * 1000,
    bytes: a.bytes,
    where: 'local archive',
    session: sessions.get(a.name) ?? null,
    next: a.name === next,
    chosen: a.name === o.chosen?.archive,
    pinned: false,
    file: join(o.archiveDir, a.name),
  }));
}

/**
 * A DigitalOcean server's versions: its own snapshots (snapshot-names.ts order: newest first by
 * DigitalOcean's clock) and its copies on this machine (copy-versions.ts), newest first together. The
 * next start boots a copy while a choice of one stands (the copy marked next), else the chosen start
 * image when one is recorded, else the newest snapshot.
 */
export function digitalOceanVersions(o: { snapshots: readonly OwnSnapshot[]; chosen: StartImage | null; adoptedIds: ReadonlySet<string>; sessions: readonly TimelineSession[]; copies?: readonly WorldVersion[] }): WorldVersion[] {
  const sessions = sessionsByName(o.sessions);
  const copies = o.copies ?? [];
  const next = copies.some((c) => c.next) ? undefined : (o.chosen?.snapshotId ?? o.snapshots[0]?.id);
  const snapshots: WorldVersion[] = o.snapshots.map((s) => ({
    id: snapshotVersionId(s.id),
    name: s.name,
    time: s.createdAt,
    bytes: Math.round(s.sizeGigabytes * 1024 ** 3),
    where: 'DigitalOcean snapshot',
    session: sessions.get(s.name) ?? null,
    next: s.id === next,
    chosen: s.id === o.chosen?.snapshotId && o.chosen.source === 'restore',
    pinned: o.adoptedIds.has(s.id),
    snapshotId: s.id,
  }));
  return [...snapshots, ...copies].sort((a, b) => b.time - a.time);
}

/** The version `id` names in `versions`, or undefined. */
export function findVersion(versions: readonly WorldVersion[], id: string): WorldVersion | undefined {
  return versions.find((v) => v.id === id);
}
