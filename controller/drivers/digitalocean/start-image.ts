import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileDurably } from '../../fs/durable.js';

/**
 * A built image chosen as the server's next start (`ood image build --use-now`, or the first build of
 * a server with no session snapshot): `servers/<id>/start-image.json`. The next provision boots it
 * whatever the newest session snapshot is, and the choice is spent once a droplet is made from it.
 * Build snapshots are named `<prefix>-image-<unix seconds>`, a shape session snapshots never take, so
 * without this record no build ever becomes what a server starts from by its name alone.
 * A restore (`ood restore`, controller/worlds/) writes the same record for an older session snapshot;
 * while it stands, and after it until the droplet made from it has been saved and pruned (restoreHold),
 * pruning keeps that snapshot and every newer one (droplet-stop.ts).
 */
export interface StartImage {
  snapshotId: string;
  name: string;
  chosenAt: string;
  /** Absent in records written before restores existed: an image build chose it. */
  source?: 'image build' | 'restore';
  /** Who restored it (restores only). */
  by?: string;
}

export function imageSnapshotName(prefix: string, unixSeconds: number): string {
  return `${prefix}-image-${unixSeconds}`;
}

export function startImagePath(dataDir: string, server: string): string {
  return join(dataDir, 'servers', server, 'start-image.json');
}

export function chosenStartImage(dataDir: string, server: string): StartImage | null {
  const path = startImagePath(dataDir, server);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as StartImage;
}

export async function chooseStartImage(dataDir: string, server: string, image: StartImage): Promise<void> {
  const path = startImagePath(dataDir, server);
  await mkdir(dirname(path), { recursive: true });
  await writeFileDurably(path, `${JSON.stringify(image)}\n`);
}

/**
 * Spends the choice once a droplet exists that was made from it (its world lives on in that droplet's
 * sessions): the next start boots the newest again. A restore's choice becomes a hold on pruning
 * (restoreHold) until that droplet's own stop has pruned.
 */
export async function spendStartImage(dataDir: string, server: string, madeFromImageId: number | string | undefined): Promise<boolean> {
  const chosen = chosenStartImage(dataDir, server);
  if (!chosen || madeFromImageId === undefined || String(madeFromImageId) !== chosen.snapshotId) return false;
  // The hold first: a crash between the two leaves both, which keeps more, never less.
  if (chosen.source === 'restore') await writeFileDurably(restoreHoldPath(dataDir, server), `${JSON.stringify({ snapshotId: chosen.snapshotId, name: chosen.name })}\n`);
  await rm(startImagePath(dataDir, server), { force: true });
  return true;
}

/**
 * A restore's choice outlives its spending for pruning only: `servers/<id>/restore-hold.json` says which
 * snapshot a droplet was made from after a restore, so the stop that saves that droplet again still keeps
 * the chosen snapshot and every newer one (issue 19: "until a start from the chosen one has been
 * archived again"); that stop releases it after its prune, and the next stop prunes as usual.
 */
export function restoreHoldPath(dataDir: string, server: string): string {
  return join(dataDir, 'servers', server, 'restore-hold.json');
}

export function restoreHold(dataDir: string, server: string): { snapshotId: string; name: string } | null {
  const path = restoreHoldPath(dataDir, server);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as { snapshotId: string; name: string };
}

/** What a prune must keep, with every newer snapshot: a standing choice, else a restore's hold. */
export function pruneGuard(dataDir: string, server: string): { snapshotId: string } | null {
  return chosenStartImage(dataDir, server) ?? restoreHold(dataDir, server);
}

export async function releaseRestoreHold(dataDir: string, server: string): Promise<void> {
  await rm(restoreHoldPath(dataDir, server), { force: true });
}
