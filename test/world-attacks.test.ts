import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { writeArchive } from '../controller/drivers/local/archive.js';
import { DOWNLOAD_STALL_MS } from '../controller/api/download-routes.js';
import nbt from 'prismarine-nbt';
import { NbtShapeError, nbtHasDataCompound } from '../controller/worlds/nbt-shape.js';
import { checkLevelDat } from '../controller/worlds/upload-checks.js';
import { TEST_TOKEN } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';

/** Attacks on issue 19's world versions, downloads and uploads that need no game and no DigitalOcean. */

describe('an uploaded level.dat that inflates into millions of NBT tags', () => {
  it('is checked without building them in memory (a 4 KB file must not cost the controller hundreds of MB)', () => {
    const n = 4_000_000;
    // Root compound { Data: {}, L: [n empty compounds] }: 4 MB of NBT that gzips to ~4 KB.
    const head = Buffer.from([10, 0, 0, 10, 0, 4, ...Buffer.from('Data'), 0, 9, 0, 1, 0x4c, 10, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const levelDat = gzipSync(Buffer.concat([head, Buffer.alloc(n, 0), Buffer.from([0])]), { level: 9 });
    expect(levelDat.length).toBeLessThan(16 << 10);
    const before = process.memoryUsage().heapUsed;
    try {
      checkLevelDat(levelDat, 'world/level.dat');
    } catch {
      // Refusing it is as good as accepting it; only the memory it cost matters here.
    }
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 << 20);
  });
});

describe('the NBT shape walk that replaced parsing', () => {
  const every: Record<string, unknown> = {
    b: nbt.byte(1), s: nbt.short(2), i: nbt.int(3), l: nbt.long([0, 4]), f: nbt.float(1.5), d: nbt.double(2.5),
    ba: { type: 'byteArray', value: [1, 2, 3] }, str: nbt.string('héllo'), li: nbt.list(nbt.comp([{ x: nbt.int(1) }, { y: nbt.string('z') }])),
    ia: { type: 'intArray', value: [1, 2] }, la: { type: 'longArray', value: [[0, 1]] }, empty: nbt.list({ type: 'end', value: [] }),
    nested: nbt.comp({ Data: nbt.comp({}) }),
  };
  const write = (value: unknown) => nbt.writeUncompressed({ type: 'compound', name: '', value: value as never }, 'big');
  it('finds Data among every tag kind the game writes, and only at the root', () => {
    expect(nbtHasDataCompound(write({ ...every, Data: nbt.comp({ LevelName: nbt.string('w') }) }))).toBe(true);
    expect(nbtHasDataCompound(write(every))).toBe(false);
    expect(nbtHasDataCompound(write({ Data: nbt.string('not a compound') }))).toBe(false);
  });
  it('refuses a truncated document, a non-compound root and nesting past 512', () => {
    const whole = write({ ...every, Data: nbt.comp({}) });
    expect(() => nbtHasDataCompound(whole.subarray(0, whole.length - 1))).toThrow(NbtShapeError);
    expect(() => nbtHasDataCompound(Buffer.from([8, 0, 0, 0, 0]))).toThrow(/does not start with a compound/);
    const deep = Buffer.concat([Buffer.from([10, 0, 0]), Buffer.alloc(0), ...Array.from({ length: 600 }, () => Buffer.from([10, 0, 1, 0x61])), Buffer.alloc(601, 0)]);
    expect(() => nbtHasDataCompound(deep)).toThrow(/deeper than 512/);
  });
});

/** GET with the admin token; resolves with the response head, its body left unread (the slot stays taken). */
function openDownload(url: string): Promise<{ res: IncomingMessage; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }, (res) => resolve({ res, req }));
    req.on('error', reject).end();
  });
}

describe('downloads asked for all at once from one address', () => {
  let home: OodHome;
  let serving: Serving;
  let work: string;
  beforeAll(async () => {
    home = await makeOodHome();
    work = await mkdtemp(join(tmpdir(), 'ood-attack-dl-'));
    const host = join(work, 'host');
    mkdirSync(join(host, 'world', 'region'), { recursive: true });
    writeFileSync(join(host, 'world', 'level.dat'), gzipSync(Buffer.from('level')));
    // Big enough that finding the world folder takes a moment, and more than loopback's socket buffers hold.
    writeFileSync(join(host, 'world', 'region', 'r.0.0.mca'), randomBytes(32 << 20));
    await writeArchive(host, join(home.archiveDir(), 'ood-1733480000.tar.gz'));
    serving = await serveInProcess(home.configPath);
  }, 60_000);
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('get no more than the per-address cap (2) of 200s; the rest are 429/503', async () => {
    const url = `${serving.url}/api/servers/world/worlds/ood-1733480000/download`;
    const opened = await Promise.all(Array.from({ length: 10 }, () => openDownload(url)));
    const statuses = opened.map((o) => o.res.statusCode);
    for (const o of opened) o.req.destroy();
    expect(statuses.filter((s) => s === 200).length, `statuses: ${statuses.join(', ')}`).toBeLessThanOrEqual(2);
    expect(statuses.every((s) => s === 200 || s === 429 || s === 503)).toBe(true);
  }, 60_000);

  it('a client that stops reading loses its place once nothing moved for DOWNLOAD_STALL_MS', async () => {
    const url = `${serving.url}/api/servers/world/worlds/ood-1733480000/download`;
    // 2 held downloads of a 32 MB world that are never read: more than loopback's socket buffers hold.
    const held = [await openDownload(url), await openDownload(url)];
    for (const h of held) h.res.pause();
    expect(held.map((h) => h.res.statusCode)).toEqual([200, 200]);
    const third = await openDownload(url);
    third.req.destroy();
    expect(third.res.statusCode).toBe(429);
    await new Promise((r) => setTimeout(r, DOWNLOAD_STALL_MS * 1.1 + 5_000));
    const after = await openDownload(url);
    after.req.destroy();
    for (const h of held) h.req.destroy();
    expect(after.res.statusCode).toBe(200);
  }, 180_000);
});
