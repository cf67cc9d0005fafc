import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseArchive, readChosenArchive } from '../../worlds/chosen-archive.js';
import { copiesDir, copyPruneSince, markCopySaved, requireChosenCopy, spendSavedCopy } from './world-push.js';

/** The life of a pushed copy's choice on this machine: standing, saved again (a prune hold), spent. */
describe('a DigitalOcean copy choice', () => {
  let dataDir: string;
  const root = () => join(dataDir, 'servers', 'cloud');
  const copy = { archive: 'ood-1800000000.tar.gz', ts: 1_800_000_000, chosenAt: '2027-01-01T00:00:00.000Z', by: 'admin' };
  const pushedTo = (dropletId: number) => writeFileSync(join(root(), 'copy-push.json'), JSON.stringify({ archive: copy.archive, dropletId, pushedAt: '2027-01-01T00:01:00.000Z' }));
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ood-push-'));
    mkdirSync(copiesDir(dataDir, 'cloud'), { recursive: true });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('fails a start whose chosen copy is gone, saying what to do, instead of booting another world', async () => {
    await chooseArchive(root(), copy);
    expect(() => requireChosenCopy(dataDir, 'cloud')).toThrow(/The copy ood-1800000000\.tar\.gz chosen by admin as cloud's next world is not in .*copies: restore another version/);
    writeFileSync(join(copiesDir(dataDir, 'cloud'), copy.archive), 'x');
    expect(requireChosenCopy(dataDir, 'cloud')).toEqual(copy);
  });

  it('is saved again only by a snapshot of the droplet that got the copy, holds pruning until spent, and is spent only then', async () => {
    await chooseArchive(root(), copy);
    expect(copyPruneSince(dataDir, 'cloud')).toBe(1_800_000_000_000);
    // A stop before any push (the droplet never got it) or of another droplet: the choice stands.
    await markCopySaved(dataDir, 'cloud', 5);
    pushedTo(7);
    await markCopySaved(dataDir, 'cloud', 5);
    await spendSavedCopy(dataDir, 'cloud');
    expect(readChosenArchive(root())).toEqual(copy);
    await markCopySaved(dataDir, 'cloud', 7);
    expect(readChosenArchive(root())?.savedAgain).toEqual(expect.any(String));
    // Not a standing choice any more, but still a hold for that stop's prune.
    expect(requireChosenCopy(dataDir, 'cloud')).toBeNull();
    expect(copyPruneSince(dataDir, 'cloud')).toBe(1_800_000_000_000);
    await spendSavedCopy(dataDir, 'cloud');
    expect([readChosenArchive(root()), copyPruneSince(dataDir, 'cloud')]).toEqual([null, null]);
  });
});
