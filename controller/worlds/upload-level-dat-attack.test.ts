import { mkdirSync, mkdtempSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeZip } from '../../test/helpers/upload-body.js';
import { parseConfig } from '../config/load.js';
import { Controller } from '../controller.js';
import { silentLogger } from '../log.js';
import { LEVEL_DAT_MAX } from './upload-checks.js';
import { uploadWorld } from './upload.js';
import { scanZip } from './upload-zip.js';

/**
 * An upload's candidate level.dat files (at the top or one folder down) are read into memory to be
 * checked, each up to LEVEL_DAT_MAX (16 MB). One folder's worth is what a world needs; an upload of
 * many folders each with a 16 MB level.dat of zeros (16 KB compressed) must not cost 16 MB a folder.
 */
const FOLDERS = 12;
// Zeros but for a random byte every 64: gzip (whose inflate node-tar caps at a ratio of 1000) and deflate shrink it about tenfold.
const big = Buffer.alloc(LEVEL_DAT_MAX);
for (let i = 0; i < big.length; i += 64) big[i] = Math.floor(Math.random() * 256);

// A collection before each sample: what is measured is what the upload holds, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The most Buffer memory (`arrayBuffers`) held while `work` ran, collected and sampled every 100 ms, above what was held before. */
async function peakGrowth(work: () => Promise<unknown>): Promise<number> {
  gc();
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  const timer = setInterval(() => {
    gc();
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 100);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return peak - base;
}

describe('uploads of many folders each holding a large level.dat', () => {
  let dir: string;
  let controller: Controller | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-level-dats-'));
  });
  afterEach(async () => {
    await controller?.close();
    controller = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a zip: refused as several worlds, the message naming a few, without holding every level.dat', async () => {
    const entries = Array.from({ length: FOLDERS }, (_, i) => ({ name: `w${i}/level.dat`, body: big }));
    const file = join(dir, 'many.zip');
    writeFileSync(file, await makeZip(entries));
    let err: { status?: number; message: string } | undefined;
    const growth = await peakGrowth(async () => {
      const scan = await scanZip(file, 2 ** 40);
      // The scan's result is what is held until the folder is chosen.
      err = { message: `kept ${scan.levelDats.size}` };
      const { chooseWorldFolder } = await import('./upload-checks.js');
      try {
        chooseWorldFolder(scan.folders);
      } catch (e) {
        err = e as typeof err;
      }
      expect(process.memoryUsage().arrayBuffers).toBeGreaterThan(0); // scan still referenced here
      return scan;
    });
    expect(growth).toBeLessThan(5 * LEVEL_DAT_MAX);
    expect(err?.status).toBe(400);
    expect(err?.message).toMatch(/several worlds \(w0\/level\.dat, w1\/level\.dat, w2\/level\.dat.*and 7 more\)/);
    expect(err!.message.length).toBeLessThan(400);
    expect(growth).toBeLessThan(5 * LEVEL_DAT_MAX);
  });

  it('a .tar.gz through the upload: the same 400, without holding every level.dat', async () => {
    const world = join(dir, 'src');
    for (let i = 0; i < FOLDERS; i++) {
      mkdirSync(join(world, `w${i}`), { recursive: true });
      writeFileSync(join(world, `w${i}`, 'level.dat'), big);
    }
    const file = join(dir, 'many.tar.gz');
    await tar.c({ cwd: world, gzip: true, file }, Array.from({ length: FOLDERS }, (_, i) => `w${i}`));
    rmSync(world, { recursive: true, force: true });
    const config = parseConfig({ dataDir: join(dir, 'data'), servers: [{ id: 'world' }] }, dir);
    controller = Controller.open(config, { log: silentLogger, childEnv: {} });
    let err: { status?: number; message: string } | undefined;
    const growth = await peakGrowth(() => uploadWorld(controller!, 'world', createReadStream(file), { actor: 'admin', source: 'test' }).catch((e: unknown) => (err = e as typeof err)));
    expect(err?.status).toBe(400);
    expect(err?.message).toMatch(/several worlds/);
    expect(growth).toBeLessThan(5 * LEVEL_DAT_MAX);
  });
});
