import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import nbt from 'prismarine-nbt';
import * as tar from 'tar';
import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { archiveName, writeArchive } from '../controller/drivers/local/archive.js';
import type { WorldVersion } from '../controller/worlds/versions.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs } from './helpers/web-client.js';


/** Every file under `dir`, by path relative to it. */
function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** A host directory as the local driver archives it: the game's files around a world folder. */
function makeHost(dir: string, world: Record<string, Buffer | string>): void {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'server.properties'), 'level-name=world\nonline-mode=false\n');
  writeFileSync(join(dir, 'logs', 'latest.log'), 'not part of the world\n');
  for (const [name, content] of Object.entries(world)) {
    mkdirSync(join(dir, 'world', name, '..'), { recursive: true });
    writeFileSync(join(dir, 'world', name), content);
  }
}

/** GET with the admin token, the response as it arrives (not buffered). */
function getStream(url: string, token = TEST_TOKEN): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request(url, { headers: { authorization: `Bearer ${token}` } }, resolve).on('error', reject).end());
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('downloading a world version (API and CLI)', () => {
  let home: OodHome;
  let serving: Serving;
  let work: string;
  const version = 'ood-1733480000';
  const region = randomBytes(300_000);
  beforeAll(async () => {
    home = await makeOodHome();
    work = await mkdtemp(join(tmpdir(), 'ood-download-'));
    makeHost(join(work, 'host'), { 'level.dat': gzipSync(Buffer.from('not nbt, but gzip')), 'region/r.0.0.mca': region, 'data/raids.dat': 'x' });
    await writeArchive(join(work, 'host'), join(home.archiveDir(), `${version}.tar.gz`));
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('answers a .tar.gz of only the world folder, under world/, with a safe file name', async () => {
    const res = await fetch(`${serving.url}/api/servers/world/worlds/${version}/download`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="world-${version}.tar.gz"`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const file = join(work, 'api.tar.gz');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const into = join(work, 'api');
    mkdirSync(into);
    await tar.x({ file, cwd: into, strict: true });
    expect(readdirSync(into)).toEqual(['world']);
    const files = filesUnder(join(into, 'world'));
    expect([...files.keys()].sort()).toEqual(['data/raids.dat', 'level.dat', 'region/r.0.0.mca']);
    expect(files.get('region/r.0.0.mca')!.equals(region)).toBe(true);
  });

  it('newest is the newest listed version; the CLI writes FILE (never a .part left) and says the size', async () => {
    const file = join(work, 'cli.tar.gz');
    const result = await ood(['-c', home.configPath, '--url', serving.url, 'download', 'world', '-o', file], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Saved world's world version ${version} to ${file} \\(\\d+(\\.\\d+)? KB\\); it unpacks to world/\\n$`));
    expect(existsSync(`${file}.part`)).toBe(false);
    const names: string[] = [];
    await tar.t({ file, onReadEntry: (e) => void names.push(e.path) });
    expect(names).toContain('world/region/r.0.0.mca');
    expect(names.every((n) => n.startsWith('world/'))).toBe(true);
  });

  it('404 for a version that is not listed (a .partial being written among them), with the ones there are', async () => {
    writeFileSync(join(home.archiveDir(), '.1733490000-1.partial'), 'half an archive');
    const api = apiFor(serving.url);
    for (const v of ['ood-1', '.1733490000-1.partial', 'ood-1733490000']) {
      const res = await api.call('GET', `/api/servers/world/worlds/${encodeURIComponent(v)}/download`);
      expect(res.status).toBe(404);
    }
    expect((await api.call('GET', '/api/servers/world/worlds/ood-1/download')).body.error).toBe(`server "world" has no version "ood-1"; it has ${version}`);
    const cli = await ood(['-c', home.configPath, '--url', serving.url, 'download', 'world', 'ood-1', '-o', join(work, 'none.tar.gz')], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN } });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('failed with 404: server "world" has no version "ood-1"');
    expect(existsSync(join(work, 'none.tar.gz.part'))).toBe(false);
  });

  it('a damaged archive is a 422 that says so, not a short file', async () => {
    const whole = readFileSync(join(home.archiveDir(), `${version}.tar.gz`));
    writeFileSync(join(home.archiveDir(), 'ood-1733470000.tar.gz'), whole.subarray(0, whole.length >> 1));
    try {
      const res = await apiFor(serving.url).call('GET', '/api/servers/world/worlds/ood-1733470000/download');
      expect(res.status).toBe(422);
      expect(res.body.error).toMatch(/^Archive ood-1733470000\.tar\.gz is damaged \(.+\) and cannot be downloaded; download another version$/);
    } finally {
      await rm(join(home.archiveDir(), 'ood-1733470000.tar.gz'));
    }
  });

  it('403 for a person who is not an admin; an admin logged in gets it', async () => {
    serving.controller.store.people.put('github:7', ['start', 'stop'], 'test', Date.now());
    const player = await loginAs(serving, 'github:7');
    const refused = await player.get(`/api/servers/world/worlds/${version}/download`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toEqual({ error: 'only an admin may download a world; ask an admin of this OoD for a copy or for "admin"' });
    expect((await player.get('/servers/world')).text).not.toContain('/download');
    serving.controller.store.people.put('github:8', ['admin'], 'test', Date.now());
    const admin = await loginAs(serving, 'github:8');
    // The server page's World versions section links each local version's download; the link works with the session.
    const link = `/api/servers/world/worlds/${version}/download`;
    expect((await admin.get('/servers/world')).text).toContain(`<a href="${link}" download>Download ${version} (.tar.gz)</a>`);
    expect((await admin.get(link)).status).toBe(200);
  });
});

describe('a DigitalOcean snapshot', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('says it cannot be downloaded, and that no copy exists yet (422); an unknown version there is a 404', async () => {
    // The versions list as a DigitalOcean server's would be (versions.ts shapes it; listing real snapshots
    // needs the fake DigitalOcean and a Pulumi run, which the refusal does not depend on).
    const snapshot: WorldVersion = { id: 'do-123', name: 'ood-1733480000', time: 1733480000_000, bytes: 2 ** 30, where: 'DigitalOcean snapshot', session: null, next: true, chosen: false, pinned: false, snapshotId: '123' };
    serving.controller.worlds = () => Promise.resolve([snapshot]);
    const api = apiFor(serving.url);
    for (const v of ['do-123', 'newest']) {
      const res = await api.call('GET', `/api/servers/world/worlds/${v}/download`);
      expect(res.status).toBe(422);
      expect(res.body.error).toBe(
        'Version do-123 of "world" is a DigitalOcean snapshot, which cannot be downloaded (DigitalOcean only boots droplets from it), and no copy of world\'s world is on this machine yet: one is made during play and at each stop while backups are enabled',
      );
    }
    expect((await api.call('GET', '/api/servers/world/worlds/do-9/download')).status).toBe(404);
    const cli = await ood(['-c', home.configPath, '--url', serving.url, 'download', 'world', '-o', join(home.dir, 'x.tar.gz')], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN } });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('failed with 422: Version do-123 of "world" is a DigitalOcean snapshot, which cannot be downloaded');
  });
});

describe('a download is streamed', () => {
  let home: OodHome;
  let controller: ControllerProcess;
  let work: string;
  beforeAll(async () => {
    home = await makeOodHome();
    work = await mkdtemp(join(tmpdir(), 'ood-download-big-'));
    // 50 MB that gzip cannot shrink: a whole-world buffer anywhere would show in the controller's RSS.
    const big = Buffer.alloc(50 << 20);
    for (let off = 0; off < big.length; off += 1 << 20) randomBytes(1 << 20).copy(big, off);
    makeHost(join(work, 'host'), { 'level.dat': gzipSync(Buffer.from('level')), 'region/r.0.0.mca': big });
    await writeArchive(join(work, 'host'), join(home.archiveDir(), archiveName(1733480000)));
    controller = await startControllerProcess(home.configPath);
  }, 120_000);
  afterAll(async () => {
    await controller?.stop();
    await home?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('the first bytes come before the archive is read, and the controller holds no copy (RSS grows < 30 MB)', async () => {
    const before = rssOf(controller.pid);
    const res = await getStream(`${controller.url}/api/servers/world/worlds/ood-1733480000/download`);
    expect(res.statusCode).toBe(200);
    let received = 0;
    let peak = before;
    // Take the first bytes, then stop reading: backpressure must stop the controller's reading too.
    const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
    res.pause();
    received += first.length;
    expect(received).toBeLessThan(50 << 20);
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 150));
      peak = Math.max(peak, rssOf(controller.pid));
    }
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(controller.pid))), 50);
    const file = join(work, 'big.tar.gz');
    try {
      const out = createWriteStream(file);
      out.write(first);
      await pipeline(res, out);
    } finally {
      clearInterval(sampler);
    }
    expect(statSync(file).size).toBeGreaterThan(50 << 20);
    expect(peak - before).toBeLessThan(30 << 20);
    // And it is whole: the 50 MB file unpacks byte for byte.
    const into = join(work, 'big');
    mkdirSync(into);
    await tar.x({ file, cwd: into, strict: true });
    expect((await readFile(join(into, 'world/region/r.0.0.mca'))).equals(readFileSync(join(work, 'host/world/region/r.0.0.mca')))).toBe(true);
  }, 120_000);
});

const MARK = new Vec3(3, 6, 3);

describe('a world made by the game, downloaded, runs again', () => {
  let home: OodHome;
  let second: OodHome | undefined;
  let serving: Serving | undefined;
  let work: string;
  beforeAll(async () => {
    home = await makeOodHome();
    work = await mkdtemp(join(tmpdir(), 'ood-download-game-'));
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
    await second?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('a bot places a block, the server stops, the CLI downloads the archive; level.dat is gzip NBT, and a new server on that world shows the block', async () => {
    const api = apiFor(serving!.url);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000);
    const bot = await joinBot(home.gamePort, 'ann');
    bot.chat(`/setblock ${MARK.x} ${MARK.y} ${MARK.z} diamond_block`);
    await waitUntil('the block to appear', () => bot.blockAt(MARK)?.name === 'diamond_block', 10_000);
    await leave(bot);
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000);

    const file = join(work, 'world.tar.gz');
    const cli = await ood(['-c', home.configPath, '--url', serving!.url, 'download', 'world', '-o', file], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN } });
    expect(cli.code, cli.stderr).toBe(0);
    await serving!.close();
    serving = undefined;
    const into = join(work, 'unpacked');
    mkdirSync(into);
    await pipeline(createReadStream(file), tar.x({ cwd: into, strict: true }));
    expect(readdirSync(into)).toEqual(['world']);
    const level = await nbt.parse(readFileSync(join(into, 'world', 'level.dat')));
    expect(level.type).toBe('big');

    // The downloaded world as another server's template: it starts on it.
    const templateFiles = Object.fromEntries([...filesUnder(join(into, 'world'))].map(([name, bytes]) => [`world/${name}`, bytes]));
    second = await makeOodHome({ templateFiles });
    serving = await serveInProcess(second.configPath);
    const api2 = apiFor(serving.url);
    await api2.start();
    await waitUntil('running on the downloaded world', async () => (await api2.server()).phase === 'running', 60_000);
    const bob = await joinBot(second.gamePort, 'bob');
    await waitUntil('the chunk to load', () => bob.blockAt(MARK) !== null, 10_000);
    expect(bob.blockAt(MARK)?.name).toBe('diamond_block');
    await leave(bob);
  }, 240_000);
});

