import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import { listArchives, writeArchive } from '../drivers/local/archive.js';
import { LocalDriver } from '../drivers/local/local-driver.js';
import { chooseArchive, readChosenArchive } from './chosen-archive.js';

/** A restore on the local driver: the next start unpacks the chosen archive, and pruning spares it and every newer one until it is spent. */
describe('local restore of an older archive', () => {
  let dir: string;
  let driver: LocalDriver;
  let clock: number;
  beforeEach(() => {
    clock = 1_800_000_000_000;
    dir = mkdtempSync(join(tmpdir(), 'ood-restore-'));
    const config = parseConfig({ servers: [{ id: 'world', keepArchives: 1 }] }, dir);
    driver = new LocalDriver(config.servers[0]!, join(dir, 'data'), {}, silentLogger, () => clock);
  });
  afterEach(async () => {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A session that writes `text` into the world, then is archived and removed (with the prune that follows). */
  const session = async (text: string) => {
    await driver.provision();
    mkdirSync(join(driver.hostDir, 'world'), { recursive: true });
    writeFileSync(join(driver.hostDir, 'world', 'level.dat'), text);
    await driver.snapshot();
    await driver.destroy();
    clock += 1_000;
  };
  const names = async () => (await listArchives(driver.archiveDir)).map((a) => a.name);

  it('keepArchives 1 with a chosen older version never deletes the chosen or newer ones, and a start from it boots it', async () => {
    // Two versions made by earlier sessions (keepArchives was higher then), and the older one chosen.
    for (const [i, text] of ['A', 'B'].entries()) {
      const world = join(dir, `made-${i}`);
      mkdirSync(join(world, 'world'), { recursive: true });
      writeFileSync(join(world, 'world', 'level.dat'), text);
      await writeArchive(world, join(driver.archiveDir, `ood-${1_800_000_000 + i}.tar.gz`));
    }
    clock += 2_000;
    await chooseArchive(driver.root, { archive: 'ood-1800000000.tar.gz', ts: 1_800_000_000, chosenAt: 'now', by: 'test' });
    // The next start boots the chosen v1, not the newest v2.
    expect(await driver.provision()).toContain('Restored ood-1800000000.tar.gz');
    expect(readFileSync(join(driver.hostDir, 'world', 'level.dat'), 'utf8')).toBe('A');
    writeFileSync(join(driver.hostDir, 'world', 'level.dat'), 'A+C');
    await driver.snapshot();
    expect(await names()).toEqual(['ood-1800000002.tar.gz', 'ood-1800000001.tar.gz', 'ood-1800000000.tar.gz']);
    // Archived again from the chosen one: that stop's prune still keeps the chosen and newer ones, then
    // the choice is spent, and the next stop prunes as usual.
    await driver.destroy();
    expect(readChosenArchive(driver.root)).toBeNull();
    expect(await names()).toEqual(['ood-1800000002.tar.gz', 'ood-1800000001.tar.gz', 'ood-1800000000.tar.gz']);
    await session('D');
    expect(await names()).toEqual(['ood-1800000003.tar.gz']);
  });

  it('a chosen archive that is gone fails the start instead of booting another world', async () => {
    await session('A');
    await chooseArchive(driver.root, { archive: 'ood-1799999999.tar.gz', ts: 1_799_999_999, chosenAt: 'now', by: 'test' });
    await expect(driver.provision()).rejects.toThrow(/ood-1799999999\.tar\.gz.*not listed/);
  });
});
