import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { levelDat, makeZip } from '../../test/helpers/upload-body.js';
import { scanZip } from './upload-zip.js';

/**
 * What one admin's odd zip costs the controller (issue 19 item 5): names are kept to find duplicates
 * and file/folder clashes, so the work and memory per entry must stay in proportion to its name, and
 * a name no file system can unpack is refused by the scan, in words, not by a 500 from the unpack.
 */
const dir = mkdtempSync(join(tmpdir(), 'ood-zip-attack-'));
let n = 0;
async function zipFile(entries: { name: string; body?: Buffer }[]): Promise<string> {
  const file = join(dir, `z${n++}.zip`);
  writeFileSync(file, await makeZip(entries));
  return file;
}

describe('zip uploads with deep or long names', () => {
  it('a deeply nested entry costs time in proportion to its name, and a path past 1024 bytes is refused as one no file system unpacks', async () => {
    // 10,000 folders deep in a 20 KB name: keys of every ancestor would be 100 M characters for this one entry.
    const file = await zipFile([{ name: 'level.dat', body: levelDat('deep') }, { name: `${'a/'.repeat(10_000)}x` }]);
    const started = performance.now();
    const err = await scanZip(file, 1 << 30).then(() => null, (e: unknown) => e as { status?: number; message: string });
    const ms = performance.now() - started;
    expect(err?.status).toBe(400);
    expect(err?.message).toMatch(/longer than 1024 bytes/);
    expect(ms).toBeLessThan(500);
  });

  it('a folder name past 255 bytes is refused by the scan (no file system names one so)', async () => {
    const file = await zipFile([{ name: 'level.dat', body: levelDat('long') }, { name: `region/${'r'.repeat(300)}.mca`, body: Buffer.from('x') }]);
    await expect(scanZip(file, 1 << 30)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/longer than 255 bytes/) });
  });

  it('entries nested 500 deep (within the path cap) cost about what shallow ones do, not the square of their depth', async () => {
    const timed = async (name: (i: number) => string) => {
      const entries = [{ name: 'level.dat', body: levelDat('many') }];
      for (let i = 0; i < 400; i++) entries.push({ name: name(i), body: Buffer.alloc(0) });
      const file = await zipFile(entries);
      const started = performance.now();
      expect((await scanZip(file, 1 << 30)).folders).toEqual(['']);
      return performance.now() - started;
    };
    const shallow = await timed((i) => `d${i}/${`${'f'.repeat(245)}/`.repeat(3)}${'f'.repeat(240)}`);
    const deep = await timed((i) => `d${i}/${'a/'.repeat(495)}f`);
    expect(deep).toBeLessThan(3 * shallow + 300);
  });

  it('a zip whose names make more files and folders than any world is refused before they fill memory', async () => {
    // Each entry 200 folders deep under its own top folder: 2,000 entries make 400,000 paths.
    const entries = [{ name: 'level.dat', body: levelDat('paths') }];
    for (let i = 0; i < 2_001; i++) entries.push({ name: `${i}/${'a/'.repeat(199)}f`, body: Buffer.alloc(0) });
    const file = await zipFile(entries);
    await expect(scanZip(file, 1 << 30)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/more than 400000 files and folders/) });
  });

  it('still refuses a name given twice and a file that other entries sit inside', async () => {
    const twice = await zipFile([{ name: 'level.dat', body: levelDat('t') }, { name: 'region/r.0.0.mca' }, { name: 'region/r.0.0.mca' }]);
    await expect(scanZip(twice, 1 << 30)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/is in the zip twice/) });
    const inside = await zipFile([{ name: 'level.dat', body: levelDat('t') }, { name: 'region' }, { name: 'region/r.0.0.mca' }]);
    await expect(scanZip(inside, 1 << 30)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/inside region, which the zip also holds as a file/) });
    const after = await zipFile([{ name: 'level.dat', body: levelDat('t') }, { name: 'a/b/c' }, { name: 'a/b' }]);
    await expect(scanZip(after, 1 << 30)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/a file in the zip and also a folder/) });
    const deepAfter = await zipFile([{ name: 'level.dat', body: levelDat('t') }, { name: 'a/b/c' }, { name: 'a' }]);
    await expect(scanZip(deepAfter, 1 << 30)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/a file in the zip and also a folder/) });
  });
});
