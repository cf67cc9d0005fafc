import { join } from 'node:path';
import type { ArchiveInfo } from '../drivers/driver.js';
import { copiesDir, listCopies } from './copies.js';
import type { TimelineSession } from '../store/session-timeline.js';
import type { ChosenArchive } from './chosen-archive.js';
import type { VersionSession, WorldVersion } from './versions.js';

/**
 * Copies off the cloud as world versions (issue 19 item 4): the verified `ood-<unix seconds>.tar.gz`
 * archives in `<dataDir>/servers/<id>/copies/`, made during play and once more at each stop. A copy is
 * written as a temp file and renamed into place only once read back whole (archive.ts), so a copy being
 * written is never listed here, and a download or a restore can never reach it.
 */
export async function listServerCopies(dataDir: string, server: string): Promise<{ dir: string; copies: ArchiveInfo[] }> {
  return { dir: copiesDir(dataDir, server), copies: await listCopies(dataDir, server) };
}

/** `copy-<unix seconds>`: stable (the copy's own name) and URL-safe, and never an archive's or a snapshot's id. */
export const copyVersionId = (copy: Pick<ArchiveInfo, 'ts'>) => `copy-${copy.ts}`;

/** The stop's copy step names what it wrote (world-copy.ts, host-copy.ts): `Copied … to copies/ood-<ts>.tar.gz`. */
const COPIED_TO = /\bto copies\/(ood-\d+\.tar\.gz)\b/;

/**
 * The session each stop's copy closed. The proof is the session's own journal: its stop's `copy` step
 * (taken after the game's final save, outside `running`) succeeded and named the file. When the journal
 * does not name one (a row written before copies said their file), the proof is when it was made:
 * copies during play are made only while the game runs, and the stop's copy only after that session's
 * final save began (its last `stop_game` step) and before the host was gone (the session's end); the
 * newest copy in that window is the stop's own (a play copy in the same second would be older: names
 * only grow, nextArchiveTs). A session whose stop made no copy (skipped to keep the stop in its
 * deadline, or failed) closes none, and no play copy is ever said to close one.
 */
export function stopCopySessions(copies: readonly ArchiveInfo[], sessions: readonly TimelineSession[]): Map<string, VersionSession> {
  const out = new Map<string, VersionSession>();
  for (const s of sessions) {
    if (s.endedAt === null) continue;
    const named = s.journal
      .filter((e) => e.step === 'copy' && e.outcome === 'ok' && e.phase !== 'running')
      .map((e) => COPIED_TO.exec(e.detail ?? '')?.[1])
      .findLast((name) => name !== undefined);
    const copy = named ? copies.find((c) => c.name === named) : copyByTime(copies, s, s.endedAt);
    if (!copy || out.has(copy.name)) continue;
    out.set(copy.name, {
      started: s.startedAt,
      by: s.startedBy ? (s.startedBy.name ?? s.startedBy.actor) : null,
      players: s.players,
      duration: Math.round((s.endedAt - s.startedAt) / 1000),
    });
  }
  return out;
}

/** The newest copy made from the session's final save (its last `stop_game`) to its end, if it had one. */
function copyByTime(copies: readonly ArchiveInfo[], s: TimelineSession, endedAt: number): ArchiveInfo | undefined {
  const finalSave = s.journal.findLast((e) => e.step === 'stop_game');
  if (!finalSave) return undefined;
  const from = Math.floor(finalSave.intentAt / 1000);
  const to = Math.ceil(endedAt / 1000);
  return copies.filter((c) => c.ts >= from && c.ts <= to).sort((a, b) => b.ts - a.ts)[0];
}

/**
 * A server's copies as versions, newest first. `chosen` is a standing choice of a copy (DigitalOcean's
 * chosen-world.json: a restore or an upload the next droplet gets before its game starts); while it
 * stands the next start uses that copy. Local servers pass null: their restore choice names an archive.
 */
export function copyVersions(o: { copies: readonly ArchiveInfo[]; dir: string; chosen: ChosenArchive | null; sessions: readonly TimelineSession[] }): WorldVersion[] {
  const sessions = stopCopySessions(o.copies, o.sessions);
  return o.copies.map((c) => ({
    id: copyVersionId(c),
    name: c.name,
    time: c.ts * 1000,
    bytes: c.bytes,
    where: 'local copy',
    session: sessions.get(c.name) ?? null,
    next: c.name === o.chosen?.archive,
    chosen: c.name === o.chosen?.archive,
    pinned: false,
    file: join(o.dir, c.name),
  }));
}

/** Versions from several places as one list, newest first (a stop's copy sorts before its snapshot only when made after it). */
export function newestFirst(...lists: (readonly WorldVersion[])[]): WorldVersion[] {
  return lists.flat().sort((a, b) => b.time - a.time);
}

/** The newest version whose file is on this machine (an archive or a copy): what a download of "newest" sends. */
export function newestDownloadable(versions: readonly WorldVersion[]): WorldVersion | undefined {
  return versions.find((v) => v.file !== undefined);
}
