import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { HostError } from '../../errors.js';
import { silentLogger } from '../../log.js';
import { listArchives } from './archive.js';
import { LocalDriver } from './local-driver.js';

/** Invariant 1 at the driver: a host is removed only with a confirmed archive of it. */
describe('LocalDriver snapshot and destroy', () => {
  let dir: string;
  let driver: LocalDriver;
  let clock: number;
  beforeEach(() => {
    clock = 1_800_000_000_000;
    dir = mkdtempSync(join(tmpdir(), 'ood-driver-'));
    const config = parseConfig({ servers: [{ id: 'world', keepArchives: 2 }] }, dir);
    driver = new LocalDriver(config.servers[0]!, join(dir, 'data'), {}, silentLogger, () => clock);
    mkdirSync(join(driver.hostDir, 'world'), { recursive: true });
    writeFileSync(join(driver.hostDir, 'world', 'level.dat'), 'the world');
  });
  afterEach(async () => {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to remove the host when its archive is gone or changed', async () => {
    await driver.snapshot();
    const [archive] = await listArchives(driver.archiveDir);
    truncateSync(join(driver.archiveDir, archive!.name), 10);
    await expect(driver.destroy()).rejects.toThrow(HostError);
    rmSync(join(driver.archiveDir, archive!.name));
    await expect(driver.destroy()).rejects.toThrow('No confirmed archive');
    expect(readFileSync(join(driver.hostDir, 'world', 'level.dat'), 'utf8')).toBe('the world');
  });

  it('a repeated snapshot reuses a good archive and replaces a damaged one', async () => {
    await driver.snapshot();
    expect(await driver.snapshot()).toMatch(/^Already archived as ood-1800000000\.tar\.gz$/);
    const [first] = await listArchives(driver.archiveDir);
    writeFileSync(join(driver.archiveDir, first!.name), Buffer.alloc(first!.bytes)); // same size, wrong bytes
    clock += 5_000;
    expect(await driver.snapshot()).toMatch(/^Archived to ood-1800000005\.tar\.gz/);
    expect(await driver.destroy()).toContain('saved as ood-1800000005.tar.gz');
    expect(existsSync(join(driver.corruptDir, first!.name))).toBe(true);
    expect(existsSync(driver.hostDir)).toBe(false);
  });

  it('prunes to keepArchives after removing the host', async () => {
    for (let i = 0; i < 3; i++) {
      mkdirSync(join(driver.hostDir, 'world'), { recursive: true });
      writeFileSync(join(driver.hostDir, 'world', 'level.dat'), `generation ${i}`);
      await driver.snapshot();
      await driver.destroy();
      clock += 1_000;
    }
    expect((await listArchives(driver.archiveDir)).map((a) => a.name)).toEqual(['ood-1800000002.tar.gz', 'ood-1800000001.tar.gz']);
  });
});

/** Behind the lobby's proxy, the game must be reachable only through the lobby, never straight from outside. */
describe('LocalDriver provision behind the lobby', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['proxy', '127.0.0.1'],
    ['wake', undefined],
  ] as const)('in %s mode the game listens on %s', async (mode, address) => {
    dir = mkdtempSync(join(tmpdir(), 'ood-driver-'));
    const lobby = mode === 'proxy' ? { mode, gamePort: 25590 } : { mode };
    const config = parseConfig({ servers: [{ id: 'world', lobby }] }, dir);
    const driver = new LocalDriver(config.servers[0]!, join(dir, 'data'), {}, silentLogger, () => 1_800_000_000_000);
    try {
      await driver.provision();
      const props = readFileSync(join(driver.hostDir, 'server.properties'), 'utf8');
      expect(props.match(/^server-ip=(.*)$/m)?.[1]).toBe(address);
    } finally {
      await driver.close();
    }
  });
});

/** The waiting room moves players to the game with a Transfer packet: the game must accept transfers. */
describe('LocalDriver provision and transfers', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes accepts-transfers=true, over a template that turned it off, keeping the template\'s other settings', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-driver-'));
    const template = join(dir, 'template');
    mkdirSync(template);
    writeFileSync(join(template, 'server.properties'), 'motd=Our world\naccepts-transfers=false\n');
    const config = parseConfig({ servers: [{ id: 'world', local: { template } }] }, dir);
    const driver = new LocalDriver(config.servers[0]!, join(dir, 'data'), {}, silentLogger, () => 1_800_000_000_000);
    try {
      await driver.provision();
      const props = readFileSync(join(driver.hostDir, 'server.properties'), 'utf8');
      expect(props.match(/^accepts-transfers=(.*)$/gm)).toEqual(['accepts-transfers=true']);
      expect(props).toMatch(/^motd=Our world$/m);
    } finally {
      await driver.close();
    }
  });
});
