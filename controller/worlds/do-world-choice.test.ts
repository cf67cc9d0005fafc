import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseStartImage, chosenStartImage } from '../drivers/digitalocean/start-image.js';
import { chooseArchive, readChosenArchive } from './chosen-archive.js';
import { chooseDoCopy, chooseDoSnapshot } from './do-world-choice.js';

/** The one place a DigitalOcean server's next world is chosen: a snapshot's choice and a copy's never stand together. */
describe('choosing a DigitalOcean server\'s next world', () => {
  let dataDir: string;
  const root = () => join(dataDir, 'servers', 'cloud');
  const copy = { archive: 'ood-1800000000.tar.gz', ts: 1_800_000_000, chosenAt: '2027-01-01T00:00:00.000Z', by: 'admin' };
  const restore = { snapshotId: '42', name: 'ood-x-cloud-1790000000', chosenAt: '2027-01-01T00:00:00.000Z', source: 'restore' as const, by: 'admin' };
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ood-do-choice-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a copy replaces a restored snapshot, and a restored snapshot replaces a copy', async () => {
    await chooseDoSnapshot(dataDir, 'cloud', restore);
    await chooseDoCopy(dataDir, 'cloud', copy);
    expect([chosenStartImage(dataDir, 'cloud'), readChosenArchive(root())]).toEqual([null, copy]);
    await chooseDoSnapshot(dataDir, 'cloud', restore);
    expect([chosenStartImage(dataDir, 'cloud'), readChosenArchive(root())]).toEqual([restore, null]);
  });

  it('keeps an image build\'s start image under a copy (the droplet is made from it, then gets the copy)', async () => {
    const built = { snapshotId: '7', name: 'ood-image-1790000000', chosenAt: '2027-01-01T00:00:00.000Z', source: 'image build' as const };
    await chooseStartImage(dataDir, 'cloud', built);
    await chooseDoCopy(dataDir, 'cloud', copy);
    expect([chosenStartImage(dataDir, 'cloud'), readChosenArchive(root())]).toEqual([built, copy]);
  });

  it('leaves a copy choice that a saved droplet turned into a prune hold (savedAgain) for its stop to spend', async () => {
    const held = { ...copy, savedAgain: '2027-01-02T00:00:00.000Z' };
    await chooseArchive(root(), held);
    await chooseDoSnapshot(dataDir, 'cloud', restore);
    expect(readChosenArchive(root())).toEqual(held);
    expect(existsSync(join(root(), 'start-image.json'))).toBe(true);
  });
});
