import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../config/load.js';
import { Controller } from '../controller.js';
import { writeArchive } from '../drivers/local/archive.js';
import { silentLogger } from '../log.js';
import { createReadStream } from 'node:fs';
import * as tar from 'tar';
import { levelDat } from '../../test/helpers/upload-body.js';
import { readChosenArchive } from './chosen-archive.js';
import { uploadWorld } from './upload.js';

/**
 * A restore is refused unless the server is archived and nobody wants it up; the choice it writes is
 * read by the next start's provision. A start pressed while that record is being written (an fsync:
 * milliseconds, longer on a busy disk) must not slip between the check and the write: it would boot
 * the world the record did not yet name, and the record would then say "the next start boots it" of a
 * start already made. Writes of chosen-world.json are held here until the test lets them go.
 */
const held: { entered?: () => void; release?: Promise<void> } = {};
vi.mock('../fs/durable.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../fs/durable.js')>();
  return {
    ...real,
    writeFileDurably: async (path: string, content: string, mode?: number) => {
      if (path.endsWith('chosen-world.json') && held.release) {
        held.entered?.();
        await held.release;
      }
      return real.writeFileDurably(path, content, mode);
    },
  };
});

describe('a start pressed while a restore writes its choice', () => {
  let dir: string;
  let controller: Controller;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-choice-race-'));
    const world = join(dir, 'made');
    mkdirSync(join(world, 'world'), { recursive: true });
    writeFileSync(join(world, 'world', 'level.dat'), 'A');
    await writeArchive(world, join(dir, 'data', 'servers', 'world', 'archives', 'ood-1800000000.tar.gz'));
    const config = parseConfig({ dataDir: join(dir, 'data'), servers: [{ id: 'world' }] }, dir);
    controller = Controller.open(config, { log: silentLogger, childEnv: {} });
  });
  afterEach(async () => {
    held.release = undefined;
    await controller.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused with a 409 saying a world is being chosen; the restore completes and the server stays down', async () => {
    let release!: () => void;
    held.release = new Promise<void>((r) => (release = r));
    const entered = new Promise<void>((r) => (held.entered = r));
    const restoring = controller.restoreWorld('world', 'ood-1800000000', { actor: 'admin', source: 'test' });
    await entered;
    let refused: unknown;
    try {
      controller.want('world', 'up', { actor: 'player', source: 'test' });
    } catch (err) {
      refused = err;
    }
    release();
    await restoring;
    expect(refused).toMatchObject({ status: 409, expose: true, message: expect.stringMatching(/world version is being chosen.*press Start again/) });
    expect(controller.store.servers.get('world')!.desired).toBe('down');
    expect(readChosenArchive(join(dir, 'data', 'servers', 'world'))?.archive).toBe('ood-1800000000.tar.gz');
    // Once the choice is written, a start goes ahead as usual.
    expect(controller.want('world', 'up', { actor: 'player', source: 'test' }).state.desired).toBe('up');
  });

  it('during an upload: the start is refused the same way, and the upload is stored and chosen', async () => {
    const world = join(dir, 'upload');
    mkdirSync(join(world, 'world'), { recursive: true });
    writeFileSync(join(world, 'world', 'level.dat'), levelDat('uploaded'));
    const file = join(dir, 'upload.tar.gz');
    await tar.c({ cwd: world, gzip: true, file }, ['world']);
    let release!: () => void;
    held.release = new Promise<void>((r) => (release = r));
    const entered = new Promise<void>((r) => (held.entered = r));
    const uploading = uploadWorld(controller, 'world', createReadStream(file), { actor: 'admin', source: 'test' });
    await entered;
    let refused: unknown;
    try {
      controller.want('world', 'up', { actor: 'player', source: 'test' });
    } catch (err) {
      refused = err;
    }
    release();
    const uploaded = await uploading;
    expect(refused).toMatchObject({ status: 409, message: expect.stringMatching(/world version is being chosen.*upload/) });
    expect(controller.store.servers.get('world')!.desired).toBe('down');
    expect(readChosenArchive(join(dir, 'data', 'servers', 'world'))?.archive).toBe(uploaded.version.name);
  });
});
