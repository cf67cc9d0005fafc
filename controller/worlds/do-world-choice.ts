import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncPath } from '../fs/durable.js';
import { chooseStartImage, chosenStartImage, startImagePath, type StartImage } from '../drivers/digitalocean/start-image.js';
import { chooseArchive, chosenArchivePath, readStandingChoice, type ChosenArchive } from './chosen-archive.js';

/**
 * The one place a DigitalOcean server's next world is chosen. Two records can name it: the start image
 * (`start-image.json`, a snapshot the next droplet is made from) and the copy choice
 * (`chosen-world.json`, a copy pushed onto the next droplet before its game starts, world-push.ts).
 * Choosing one clears a standing choice of the other first, durably, then writes its own: a crash in
 * between leaves no choice (the next start boots the newest snapshot, and the admin's request did not
 * succeed), never two that disagree. Only records change: no version is deleted or rewritten.
 * A start image chosen by `ood image build` is not a restore and stays: a copy is pushed onto a droplet
 * made from it, as it would be onto one made from the newest snapshot.
 */
export async function chooseDoSnapshot(dataDir: string, server: string, image: StartImage): Promise<void> {
  const root = join(dataDir, 'servers', server);
  if (readStandingChoice(root)) await removeDurably(chosenArchivePath(root));
  await chooseStartImage(dataDir, server, image);
}

export async function chooseDoCopy(dataDir: string, server: string, chosen: ChosenArchive): Promise<void> {
  if (chosenStartImage(dataDir, server)?.source === 'restore') await removeDurably(startImagePath(dataDir, server));
  await chooseArchive(join(dataDir, 'servers', server), chosen);
}

async function removeDurably(path: string): Promise<void> {
  await rm(path, { force: true });
  if (existsSync(dirname(path))) await fsyncPath(dirname(path));
}
