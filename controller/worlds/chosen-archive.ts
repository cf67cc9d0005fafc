import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileDurably } from '../fs/durable.js';
import type { ArchiveInfo } from '../drivers/driver.js';

/**
 * A local server's restore choice: `servers/<id>/chosen-world.json` names the archive the next start
 * unpacks instead of the newest. It stays until a host unpacked from it has been archived again and the
 * prune after that has run (the local driver's destroy spends it), and while it stays, pruning keeps it
 * and every newer archive.
 */
export interface ChosenArchive {
  archive: string;
  /** Unix seconds from the archive's name, so "newer than the choice" needs no listing. */
  ts: number;
  chosenAt: string;
  by: string;
  /**
   * Set (durably) by the local driver's destroy once a host started from the choice is archived again,
   * before it removes that host: the next start no longer boots the choice, but that destroy's prune
   * still keeps it and the newer archives, and then spends it. A crash in between leaves a hold, never
   * a choice that would boot the older world again.
   */
  savedAgain?: string;
}

export function chosenArchivePath(serverRoot: string): string {
  return join(serverRoot, 'chosen-world.json');
}

export function readChosenArchive(serverRoot: string): ChosenArchive | null {
  const path = chosenArchivePath(serverRoot);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as ChosenArchive;
}

/** The choice the next start honours: none once a host started from it was archived again (`savedAgain`). */
export function readStandingChoice(serverRoot: string): ChosenArchive | null {
  const chosen = readChosenArchive(serverRoot);
  return chosen && !chosen.savedAgain ? chosen : null;
}

export async function chooseArchive(serverRoot: string, chosen: ChosenArchive): Promise<void> {
  const path = chosenArchivePath(serverRoot);
  await mkdir(dirname(path), { recursive: true });
  await writeFileDurably(path, `${JSON.stringify(chosen)}\n`);
}

export async function spendChosenArchive(serverRoot: string): Promise<void> {
  await rm(chosenArchivePath(serverRoot), { force: true });
}

/**
 * The one decision of which archives the next start may unpack, in order: the chosen one alone while
 * a choice stands (never a silent fall back to another world), else every good archive newest first
 * (provision falls back past damaged ones). The versions list's `next` flag is the first of these.
 */
export function startCandidates(archives: readonly ArchiveInfo[], chosen: ChosenArchive | null): ArchiveInfo[] {
  if (!chosen) return [...archives];
  return archives.filter((a) => a.name === chosen.archive);
}

/** Archives a prune may remove: past the newest `keep`, never the chosen one nor one newer than it. */
export function archivesToPrune(archives: readonly ArchiveInfo[], keep: number, chosen: ChosenArchive | null): ArchiveInfo[] {
  return archives.slice(keep).filter((a) => !chosen || a.ts < chosen.ts);
}
