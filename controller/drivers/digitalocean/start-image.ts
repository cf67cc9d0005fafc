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
 * while it stands, pruning keeps that snapshot and every newer one (droplet-stop.ts).
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

/** Spends the choice once a droplet exists that was made from it (its world lives on in that droplet's sessions). */
export async function spendStartImage(dataDir: string, server: string, madeFromImageId: number | string | undefined): Promise<boolean> {
  const chosen = chosenStartImage(dataDir, server);
  if (!chosen || madeFromImageId === undefined || String(madeFromImageId) !== chosen.snapshotId) return false;
  await rm(startImagePath(dataDir, server), { force: true });
  return true;
}
