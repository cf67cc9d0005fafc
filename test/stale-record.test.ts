import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extractArchive, listArchives } from '../controller/drivers/local/archive.js';
import { apiFor } from './helpers/api.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { startControllerOnSmallDisk, type SmallDiskController } from './helpers/small-disk.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Invariant 7 through the whole loop, as the issue reproduced it: the host's removal fails after its
 * archive was confirmed, the server goes to failed, a person presses Start, the world changes, and
 * the next stop must archive that change rather than answer "already archived" with the old archive.
 */
describe('a saved record after a failed removal', () => {
  let home: OodHome | undefined;
  let controller: SmallDiskController | undefined;
  afterEach(async () => {
    await controller?.stop();
    await home?.cleanup();
    controller = home = undefined;
  });

  it('does not survive a resume: the next stop archives what was played since', async () => {
    home = await makeOodHome({ reconcile: { backoff: '200ms', maxBackoff: '500ms', maxAttempts: 2 } });
    // A private mount namespace (with the data on its own tmpfs), so the test can make the host busy.
    controller = await startControllerOnSmallDisk(home.configPath, { dir: home.dataDir, size: '256m' });
    const c = controller;
    const api = apiFor(c.url);
    const phase = (want: string) => waitUntil(want, async () => (await api.server()).phase === want, 60_000);
    const inNamespace = (...argv: string[]) => execFileSync('nsenter', [`--mount=/proc/${c.pid}/ns/mnt`, ...argv]);
    const host = home.hostDir();

    await api.start();
    await phase('running');
    // A mount point cannot be renamed (EBUSY): the removal after the archive will fail.
    inNamespace('mount', '--bind', host, host);
    await api.stop();
    await phase('failed');
    expect((await api.server()).lastError).toMatch(/^destroy failed .*EBUSY/);
    expect(await listArchives(c.inside(home.archiveDir()))).toHaveLength(1);

    await api.start();
    await phase('running');
    writeFileSync(c.inside(join(host, 'world', 'played-after-resume.txt')), 'this must be saved');
    inNamespace('umount', '--lazy', host); // the game's working directory keeps it busy otherwise
    await api.stop();
    await phase('archived');

    const archives = await listArchives(c.inside(home.archiveDir()));
    expect(archives).toHaveLength(2);
    const out = mkdtempSync(join(tmpdir(), 'ood-stale-check-'));
    try {
      await extractArchive(join(c.inside(home.archiveDir()), archives[0]!.name), out);
      expect(readFileSync(join(out, 'world', 'played-after-resume.txt'), 'utf8')).toBe('this must be saved');
    } finally {
      rmSync(out, { recursive: true });
    }
  });
});
