import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ArchiveError } from '../../errors.js';
import { silentLogger } from '../../log.js';
import { waitUntil } from '../../../test/helpers/wait.js';
import { extractArchive, listArchives } from './archive.js';
import { LocalDriver } from './local-driver.js';
import { findHostProcesses } from './processes.js';

/**
 * A game that changes its world when it starts (writes world/<marker>), then waits for SIGTERM:
 * enough of a game to show whether a change made after a resume reaches the next archive.
 */
const GAME = `
const fs = require('node:fs');
fs.mkdirSync('world', { recursive: true });
fs.writeFileSync('world/session-' + process.env.SESSION + '.txt', 'played');
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1000);
`;

describe('LocalDriver records and restores', () => {
  let dir: string;
  let driver: LocalDriver;
  let clock: number;
  const make = (session: string) => {
    const config = parseConfig({ servers: [{ id: 'world', keepArchives: 5, local: { command: [process.execPath, '-e', GAME] } }] }, dir);
    return new LocalDriver(config.servers[0]!, join(dir, 'data'), { ...process.env, SESSION: session }, silentLogger, () => clock);
  };
  const stopGame = async (d: LocalDriver) => {
    await d.terminate();
    await waitUntil('the game to exit', async () => (await findHostProcesses(d.hostDir)).length === 0, 10_000);
  };
  beforeEach(() => {
    clock = 1_800_000_000_000;
    dir = mkdtempSync(join(tmpdir(), 'ood-record-'));
    driver = make('one');
  });
  afterEach(async () => {
    await driver.kill();
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a resume after a failed removal forgets the old record, so the next stop archives what was played since (invariant 7)', async () => {
    await driver.provision();
    await driver.boot();
    await waitUntil('the first session to write', () => existsSync(join(driver.hostDir, 'world', 'session-one.txt')));
    await stopGame(driver);
    expect(await driver.snapshot()).toMatch(/^Archived to ood-1800000000/);
    // The removal fails (here: the name it renames the host to is taken), so the server would go to failed.
    mkdirSync(join(driver.root, `trash-${clock}`, 'busy'), { recursive: true });
    await expect(driver.destroy()).rejects.toThrow();
    expect(existsSync(driver.hostDir)).toBe(true);

    // A person presses Start: the same host boots again and people play.
    clock += 60_000;
    await driver.close();
    driver = make('two');
    await driver.boot();
    await waitUntil('the second session to write', () => existsSync(join(driver.hostDir, 'world', 'session-two.txt')));
    expect(existsSync(join(driver.hostDir, '.ood-archived.json'))).toBe(false);
    await stopGame(driver);
    expect(await driver.snapshot()).toMatch(/^Archived to ood-1800000060/);
    rmSync(join(driver.root, `trash-${clock - 60_000}`), { recursive: true });
    expect(await driver.destroy()).toContain('saved as ood-1800000060.tar.gz');

    const [newest] = await listArchives(driver.archiveDir);
    const out = join(dir, 'check');
    await extractArchive(join(driver.archiveDir, newest!.name), out);
    expect(readdirSync(join(out, 'world')).sort()).toEqual(['session-one.txt', 'session-two.txt']);
  });

  it('observing a running game forgets the record too, however the game was started', async () => {
    await driver.provision();
    await driver.snapshot();
    expect(existsSync(join(driver.hostDir, '.ood-archived.json'))).toBe(true);
    await driver.boot();
    await waitUntil('the game to run', async () => (await driver.observe()).power === 'on');
    expect(existsSync(join(driver.hostDir, '.ood-archived.json'))).toBe(false);
  });

  it('an unreadable record counts as not saved: snapshot archives again instead of throwing', async () => {
    await driver.provision();
    await driver.snapshot();
    writeFileSync(join(driver.hostDir, '.ood-archived.json'), '{"archive":"ood-18');
    clock += 1_000;
    expect(await driver.snapshot()).toMatch(/^Archived to ood-1800000001/);
  });

  it('falls back from a damaged newest archive on the first attempt, and says so', async () => {
    await driver.provision();
    writeFileSync(join(driver.hostDir, 'mark.txt'), 'A1');
    await driver.snapshot();
    await driver.destroy();
    clock += 1_000;
    await driver.provision();
    writeFileSync(join(driver.hostDir, 'mark.txt'), 'A2');
    await driver.snapshot();
    await driver.destroy();
    const [newest] = await listArchives(driver.archiveDir);
    const bytes = readFileSync(join(driver.archiveDir, newest!.name));
    writeFileSync(join(driver.archiveDir, newest!.name), bytes.subarray(0, bytes.length >> 1));

    const detail = await driver.provision();
    expect(detail).toMatch(/^Set ood-1800000001\.tar\.gz aside in archives\/corrupt\/: damaged: .+; Restored ood-1800000000\.tar\.gz$/);
    expect(readFileSync(join(driver.hostDir, 'mark.txt'), 'utf8')).toBe('A1');
    expect(readdirSync(driver.root).filter((n) => n.startsWith('staging-') || n.startsWith('trash-'))).toEqual([]);
  });

  it('an archive tar will not restore as it is fails the step and is left in place: no quiet rollback', async () => {
    await driver.provision();
    await driver.snapshot();
    await driver.destroy();
    // An archive from elsewhere (GNU tar keeps absolute link targets) that OoD cannot restore faithfully.
    const src = join(dir, 'odd');
    mkdirSync(join(src, 'world'), { recursive: true });
    symlinkSync('/srv/shared/datapacks', join(src, 'world', 'datapacks'));
    execFileSync('tar', ['czf', join(driver.archiveDir, 'ood-1800000009.tar.gz'), '-C', src, 'world']);

    const err = await driver.provision().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/ood-1800000009\.tar\.gz cannot be restored as it is/);
    expect((await listArchives(driver.archiveDir)).map((a) => a.name)).toContain('ood-1800000009.tar.gz');
    expect(existsSync(driver.corruptDir)).toBe(false);
    expect(existsSync(driver.hostDir)).toBe(false);
  });

  it('keeps links inside the host as links, and refuses links out of it before removing anything', async () => {
    await driver.provision();
    mkdirSync(join(driver.hostDir, 'world', 'datapacks-real'), { recursive: true });
    writeFileSync(join(driver.hostDir, 'world', 'datapacks-real', 'pack.txt'), 'inside');
    symlinkSync('../world/datapacks-real', join(driver.hostDir, 'world', 'datapacks'));
    await driver.snapshot();
    await driver.destroy();
    await driver.provision();
    expect(readFileSync(join(driver.hostDir, 'world', 'datapacks', 'pack.txt'), 'utf8')).toBe('inside');

    const shared = join(dir, 'shared');
    mkdirSync(shared);
    symlinkSync(shared, join(driver.hostDir, 'world', 'outside'));
    const err = await driver.snapshot().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/symbolic links that lead out of the host \(world\/outside → .*shared\)/);
    expect((err as ArchiveError).retryable).toBe(false);
    expect(readdirSync(driver.archiveDir).filter((n) => n.endsWith('.partial'))).toEqual([]);
    await expect(driver.destroy()).rejects.toThrow('No confirmed archive');

    // The world directory itself a link out of the host: refused the same way, not archived as a bare link.
    rmSync(join(driver.hostDir, 'world', 'outside'));
    const elsewhere = join(dir, 'elsewhere-world');
    execFileSync('mv', [join(driver.hostDir, 'world'), elsewhere]);
    symlinkSync(elsewhere, join(driver.hostDir, 'world'));
    await expect(driver.snapshot()).rejects.toThrow(/\(world → .*elsewhere-world\)/);
  });
});
