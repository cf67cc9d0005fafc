import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { listArchives } from '../controller/drivers/local/archive.js';
import { findHostProcesses } from '../controller/drivers/local/processes.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { fillUp, startControllerOnSmallDisk, type SmallDiskController } from './helpers/small-disk.js';
import { waitUntil } from './helpers/wait.js';

const NOTE = 'world/ood-note.txt';
const NO_SPACE = /ENOSPC|no space left/i;
// Few attempts with short waits, so a step that cannot succeed reaches `failed` within seconds.
const QUICK_RETRIES = { backoff: '200ms', maxBackoff: '500ms', maxAttempts: 3 };

describe('a full disk', () => {
  let home: OodHome | undefined;
  let controller: SmallDiskController | undefined;
  let serving: Serving | undefined;
  afterEach(async () => {
    await serving?.close();
    await controller?.stop();
    await home?.cleanup();
    serving = controller = home = undefined;
  });

  const alive = async (c: SmallDiskController) => {
    process.kill(c.pid, 0);
    return (await fetch(`${c.url}/healthz`)).status === 200;
  };
  /** `wait`, unless the controller ends first: then fail at once, with its output, not at the timeout. */
  const whileAlive = <T>(c: SmallDiskController, wait: Promise<T>): Promise<T> =>
    Promise.race([
      wait,
      c.exited.then((how): never => {
        throw new Error(`The controller ended (${how}) while the test waited; its output:\n${c.output().slice(-4000)}`);
      }),
    ]);
  const phase = (c: SmallDiskController, want: 'running' | 'failed') =>
    whileAlive(
      c,
      waitUntil(
        want,
        async () => {
          const s = await apiFor(c.url).server();
          return s.phase === want && s;
        },
        60_000,
      ),
    );

  it('while archiving fails the stop after retries, keeps the host and leaves no partial file', { timeout: 90_000 }, async () => {
    // Random bytes do not compress: the archive cannot fit in 64 KB, the directory can.
    home = await makeOodHome({ templateFiles: { [NOTE]: 'kept', 'world/ood-bulk.bin': randomBytes(256 << 10) }, reconcile: QUICK_RETRIES });
    controller = await startControllerOnSmallDisk(home.configPath, { dir: home.archiveDir(), size: '64k' });
    const api = apiFor(controller.url);
    await api.start();
    await phase(controller, 'running');
    await api.stop();

    const failed = await phase(controller, 'failed');
    expect(failed.lastError).toMatch(NO_SPACE);
    expect(await alive(controller)).toBe(true);
    const snapshots = (await api.journal()).filter((e) => e.step === 'snapshot');
    expect(snapshots.filter((e) => e.outcome === 'error').length).toBeGreaterThan(1);
    for (const e of snapshots) expect(e.error).toMatch(NO_SPACE);
    expect(readdirSync(controller.inside(home.archiveDir())).filter((n) => n.endsWith('.partial'))).toEqual([]);
    expect(await listArchives(controller.inside(home.archiveDir()))).toEqual([]);
    expect(readFileSync(join(home.hostDir(), NOTE), 'utf8')).toBe('kept');
    expect(controller.output()).not.toMatch(/Uncaught|unhandled/i);
  });

  it('under the database answers 503 saying so, logs it, and works again once there is room', { timeout: 60_000 }, async () => {
    home = await makeOodHome();
    controller = await startControllerOnSmallDisk(home.configPath, { dir: home.dataDir, size: '8m' });
    const api = apiFor(controller.url);
    const filler = controller.inside(join(home.dataDir, 'filler'));
    expect(fillUp(filler)).toBeGreaterThan(0);

    const refused = await api.start();
    expect(refused.status).toBe(503);
    const error = String(refused.body.error);
    expect(error).toContain('disk is full');
    expect(error).toContain(home.dataDir);
    await waitUntil('the reason in the log', () => controller!.output().includes(error), 5_000);
    expect(await alive(controller)).toBe(true);
    expect((await api.server()).desired).toBe('down');

    rmSync(filler);
    const accepted = await api.start();
    expect(accepted.status).toBe(202);
    expect((await api.server()).desired).toBe('up');
  });

  it('while restoring fails the start after retries and leaves every archive as it was', { timeout: 120_000 }, async () => {
    // Zeros compress to almost nothing: the archives fit in the 1 MB disk, the 4 MB world they hold does not.
    home = await makeOodHome({ templateFiles: { [NOTE]: 'generation 1', 'world/ood-bulk.bin': Buffer.alloc(4 << 20) }, reconcile: QUICK_RETRIES });
    serving = await serveInProcess(home.configPath);
    const first = apiFor(serving.url);
    for (const generation of ['generation 1', 'generation 2']) {
      await first.start();
      await waitUntil('running', async () => (await first.server()).phase === 'running', 60_000);
      writeFileSync(join(home.hostDir(), NOTE), generation);
      await first.stop();
      await waitUntil('archived', async () => (await first.server()).phase === 'archived', 60_000);
    }
    await serving.close();
    serving = undefined;
    const archives = await listArchives(home.archiveDir());
    expect(archives).toHaveLength(2);

    // The server's whole directory (archives and the staging dir a restore extracts into) on 1 MB.
    const serverDir = join(home.dataDir, 'servers', 'world');
    const seed = join(home.dir, 'seed');
    cpSync(serverDir, seed, { recursive: true });
    controller = await startControllerOnSmallDisk(home.configPath, { dir: serverDir, size: '1m', seed });
    const api = apiFor(controller.url);
    await api.start();

    const failed = await phase(controller, 'failed');
    expect(failed.lastError).toMatch(NO_SPACE);
    expect(await alive(controller)).toBe(true);
    const provisions = (await api.journal()).filter((e) => e.step === 'provision' && e.outcome === 'error');
    expect(provisions.length).toBeGreaterThan(1);
    for (const e of provisions) expect(e.error).toMatch(NO_SPACE);
    const archiveDir = controller.inside(home.archiveDir());
    expect(await listArchives(archiveDir)).toEqual(archives);
    expect(existsSync(join(archiveDir, 'corrupt'))).toBe(false);
    // No older world and no fresh one was started in place of the one that did not fit.
    expect(existsSync(controller.inside(home.hostDir()))).toBe(false);
    expect(await findHostProcesses(home.hostDir())).toEqual([]);
  });
});
