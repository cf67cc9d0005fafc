import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import nbt from 'prismarine-nbt';
import * as tar from 'tar';
import { Vec3 } from 'vec3';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { serveInProcess } from './helpers/in-process.js';
import { ood } from './helpers/ood-cli.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const A = new Vec3(2, 6, 2);
const B = new Vec3(4, 6, 4);

interface Version {
  id: string;
  name: string;
  where: string;
  next: boolean;
  chosen: boolean;
  session: { players: string[] } | null;
}

/** A real Java level.dat: gzip of big-endian NBT with a Data compound. */
const levelDat = (name: string) => gzipSync(nbt.writeUncompressed({ type: 'compound', name: '', value: { Data: { type: 'compound', value: { LevelName: { type: 'string', value: name } } } } }));

/** tar-stream (flying-squid's, untyped): only what this test calls. */
interface TarPack extends NodeJS.ReadableStream {
  entry(header: Record<string, unknown>, body: Buffer, done: (err?: Error | null) => void): void;
  finalize(): void;
}
const tarStream = createRequire(import.meta.url)('tar-stream') as { pack(): TarPack };
type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'character-device'; body?: Buffer; linkname?: string };

/** A .tar.gz made entry by entry, so the test can write what no honest tar would. */
async function tarGz(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => pack.on('end', resolve));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, devmajor: 1, devminor: 3, mode: 0o644 }, e.body ?? Buffer.alloc(0), (err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}

function upload(url: string, body: Buffer): Promise<{ status: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/api/servers/world/worlds/upload', url), { method: 'POST', headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/gzip', 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, error: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string }).error }));
      res.on('error', reject);
    });
    // A refusal before the whole body is sent closes the connection under the rest of it (EPIPE on our
    // side): the answer, already on its way, is what counts.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') setTimeout(() => reject(err), 10_000).unref();
      else reject(err);
    });
    // The headers go first, the body a moment later unless the answer came already: a refusal from the
    // declared length alone (413) then arrives before any byte of a body the server will not read, whose
    // writing once reset the connection and lost that answer (seen in a loaded run).
    let answered = false;
    req.on('response', () => (answered = true));
    req.flushHeaders();
    setTimeout(() => {
      if (answered) return; // the rest is never read; the connection ends with the server's close
      for (let i = 0; i < body.length; i += 64 << 10) req.write(body.subarray(i, i + (64 << 10)));
      req.end();
    }, 200);
  });
}

/**
 * Issue 19 items 2 and 5 on `driver: digitalocean` (fake API, loopback droplets, the real `pulumi`
 * CLI, the bundled game, a mineflayer bot): a world made by the bundled game on another (local) OoD
 * is uploaded to an archived DigitalOcean server; the next droplet is made from the newest snapshot
 * and gets the upload over SSH before its game starts, even when the controller is killed (-9) between
 * the push and the game's start; the world the droplet had is kept moved aside; bad uploads are the
 * same 400s as on a local server and change nothing.
 */
describe('uploading a world to a DigitalOcean server', () => {
  let world: DoWorld;
  let controller: ControllerProcess;
  let elsewhere: OodHome;
  let there: Serving;
  beforeAll(async () => {
    world = await makeDoWorld({ server: { digitalocean: { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'], keepSnapshots: 2 }, backups: { enabled: false } } });
    const config = parse(readFileSync(world.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(world.configPath, stringify({ ...config, worlds: { maxUpload: '4MB' } }));
    controller = await startControllerProcess(world.configPath, world.env);
    elsewhere = await makeOodHome();
    there = await serveInProcess(elsewhere.configPath);
  });
  afterAll(async () => {
    await there?.close();
    await elsewhere?.cleanup();
    await controller?.stop();
    await world?.cleanup();
  });

  const api = () => apiFor(controller.url);
  const droplets = () => [...world.fake.state.droplets.values()].filter((d) => d.status !== 'archive');
  const serverDir = () => join(world.dataDir, 'servers', 'world');
  const copies = () => (existsSync(join(serverDir(), 'copies')) ? readdirSync(join(serverDir(), 'copies')).sort() : []);
  const versions = async () => {
    const res = await api().call('GET', '/api/servers/world/worlds');
    expect(res.status).toBe(200);
    return res.body.versions as Version[];
  };
  const stop = async () => {
    expect((await api().stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api().server()).phase === 'archived', 240_000);
    expect(droplets()).toEqual([]);
  };
  /** A bot joins the droplet, optionally places `block` at `at`, and reports what it sees at A and B. */
  const play = async (name: string, host: string, place?: { at: Vec3; block: string }) => {
    const bot = await joinBot(world.gamePort, name, host);
    try {
      await waitUntil(`the API to count ${name}`, async () => (await api().server()).players.names.includes(name), 20_000);
      await waitUntil('the chunk to load', () => bot.blockAt(A) !== null && bot.blockAt(B) !== null, 20_000);
      if (place) {
        bot.chat(`/setblock ${place.at.x} ${place.at.y} ${place.at.z} ${place.block}`);
        await waitUntil(`the ${place.block} to appear`, () => bot.blockAt(place.at)?.name === place.block, 10_000);
      }
      await new Promise((r) => setTimeout(r, 2_000));
      return { a: bot.blockAt(A)?.name, b: bot.blockAt(B)?.name };
    } finally {
      await leave(bot);
    }
  };

  it('refuses bad uploads as a local server does; a good one (gold at A, made elsewhere) replaces the droplet\'s world (diamond at B, kept aside), across a kill -9 between the push and the game start', async () => {
    onTestFailed(() => {
      console.log(`The controller said:\n${controller.output().slice(-8000)}`);
    });
    // Elsewhere: a local OoD whose bundled game gets gold at A from a bot.
    const local = apiFor(there.url);
    expect((await local.start()).status).toBe(202);
    await waitUntil('the local server running', async () => (await local.server()).phase === 'running', 90_000);
    const ann = await joinBot(elsewhere.gamePort, 'ann');
    try {
      await waitUntil('the chunk to load', () => ann.blockAt(A) !== null, 15_000);
      ann.chat(`/setblock ${A.x} ${A.y} ${A.z} gold_block`);
      await waitUntil('the gold to appear', () => ann.blockAt(A)?.name === 'gold_block', 10_000);
    } finally {
      await leave(ann);
    }
    expect((await local.stop()).status).toBe(202);
    await waitUntil('the local server archived', async () => (await local.server()).phase === 'archived', 90_000);
    const unpacked = join(elsewhere.dir, 'unpacked');
    mkdirSync(unpacked);
    const [archive] = readdirSync(elsewhere.archiveDir()).filter((n) => n.endsWith('.tar.gz'));
    await tar.x({ file: join(elsewhere.archiveDir(), archive!), cwd: unpacked });

    // Here: a DigitalOcean session puts diamond at B into the droplet's world (snapshot v1).
    expect((await api().start()).status).toBe(202);
    await waitUntil('running', async () => (await api().server()).phase === 'running', 180_000);
    expect(await play('bob', droplets()[0]!.ipv4, { at: B, block: 'diamond_block' })).toEqual({ a: 'air', b: 'diamond_block' });
    await stop();
    const before = await versions();
    expect(before.map((v) => v.where)).toEqual(['DigitalOcean snapshot', 'DigitalOcean snapshot']);

    // Bad uploads: the same clear 400s as on a local server, nothing stored, nothing chosen.
    const good = await tarGz([{ name: 'world/level.dat', body: levelDat('x') }]);
    const bad: [string, Buffer, number, RegExp][] = [
      ['zip-slip', await tarGz([{ name: 'world/level.dat', body: levelDat('x') }, { name: '../../etc/x', body: Buffer.from('x') }]), 400, /entry \.\.\/\.\.\/etc\/x leaves the world folder/],
      ['symlink', await tarGz([{ name: 'world/level.dat', body: levelDat('x') }, { name: 'world/evil', type: 'symlink', linkname: '/etc/passwd' }]), 400, /entry world\/evil is a symbolic link/],
      ['absolute path', await tarGz([{ name: 'world/level.dat', body: levelDat('x') }, { name: '/tmp/ood-do-upload-absolute', body: Buffer.from('x') }]), 400, /entry \/tmp\/ood-do-upload-absolute is an absolute path/],
      ['device', await tarGz([{ name: 'world/level.dat', body: levelDat('x') }, { name: 'world/null', type: 'character-device' }]), 400, /entry world\/null is a device file/],
      ['no level.dat', await tarGz([{ name: 'world/region/r.0.0.mca', body: Buffer.from('x') }]), 400, /holds no level\.dat at its top or one folder down/],
      ['truncated gzip', good.subarray(0, good.length - 20), 400, /is not a whole \.tar\.gz file/],
      ['maxUpload + 1 byte', Buffer.alloc(4 * 1024 * 1024 + 1), 413, /larger than worlds\.maxUpload \(4MB/],
    ];
    for (const [what, body, status, message] of bad) {
      const answer = await upload(controller.url, body);
      expect([what, answer.status, answer.error]).toEqual([what, status, expect.stringMatching(message)]);
      expect(copies(), what).toEqual([]);
      expect(existsSync(join(serverDir(), 'chosen-world.json')), what).toBe(false);
    }
    expect(existsSync('/tmp/ood-do-upload-absolute')).toBe(false);
    expect((await versions()).map((v) => [v.id, v.next])).toEqual(before.map((v) => [v.id, v.next]));

    // The good one, as the CLI sends a folder: stored as a copy and chosen, the snapshots kept.
    const sent = await ood(['upload', 'world', join(unpacked, 'world')], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN, OOD_URL: controller.url }, cwd: world.dir });
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const uploaded = await versions();
    expect(uploaded.map((v) => [v.where, v.next, v.chosen])).toEqual([
      ['local copy', true, true],
      ['DigitalOcean snapshot', false, false],
      ['DigitalOcean snapshot', false, false],
    ]);
    const copy = uploaded[0]!;
    expect(copy.id).toMatch(/^copy-\d+$/);
    expect((await api().journal()).some((e) => e.step === 'upload' && e.detail?.includes(copy.name) && e.detail.includes('the next droplet gets it over SSH'))).toBe(true);

    // The start: the controller is killed once the push has put the world in place, before the game starts.
    expect((await api().start()).status).toBe(202);
    await waitUntil('the droplet to be made', () => droplets().length === 1, 180_000, 20);
    const droplet = droplets()[0]!;
    // The fake lists the droplet before its loopback machine exists.
    const made = () => {
      try {
        return world.machines.isOn(droplet.id);
      } catch (err) {
        if ((err as Error).name === 'LoopbackDropletError' || /no loopback droplet/.test((err as Error).message)) return false;
        throw err;
      }
    };
    await waitUntil('the loopback machine', made, 180_000, 20);
    const paths = world.machines.paths(droplet.id);
    const marker = join(paths.minecraft, '.ood-pushed');
    await waitUntil('the push to finish on the droplet', () => existsSync(marker), 180_000, 2);
    await controller.kill9();
    const gameLog = join(paths.log, 'minecraft.log');
    // The kill landed in the gap: the game had not been started on the droplet.
    expect(existsSync(gameLog) ? readFileSync(gameLog, 'utf8') : '').toBe('');
    controller = await startControllerProcess(world.configPath, world.env);
    await waitUntil('running after the restart', async () => (await api().server()).phase === 'running', 180_000);
    expect(droplets().map((d) => d.id)).toEqual([droplet.id]);
    // Made from the newest snapshot (bob's), then given the upload: gold at A, no diamond at B.
    expect(droplet.image).toMatchObject({ kind: 'snapshot', snapshot: { name: before[0]!.name } });
    expect(await play('cat', droplet.ipv4)).toEqual({ a: 'gold_block', b: 'air' });

    // The world it replaced is kept beside the game, moved aside, never deleted.
    const aside = readdirSync(paths.minecraft).filter((n) => /^world\.ood-replaced-\d+$/.test(n));
    expect(aside.length).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(paths.minecraft, aside[0]!, 'level.dat'))).toBe(true);
    expect(readFileSync(marker, 'utf8').trim()).toBe(`${copy.name} droplet ${droplet.id}`);
    expect(existsSync(join(paths.minecraft, '.ood-push'))).toBe(false);
    const journal = await api().journal();
    expect(journal.some((e) => e.step === 'boot' && /the chosen copy ood-\d+\.tar\.gz (was already in place|\(.*\) in place)/.test(e.detail ?? ''))).toBe(true);

    await stop();
    // That stop saved what cat played on the pushed world: the choice is spent, the next start boots
    // the new snapshot; the copy and bob's snapshot stay listed (keepSnapshots 2 pruned only the base
    // image, older than the upload).
    const after = await versions();
    expect(existsSync(join(serverDir(), 'chosen-world.json'))).toBe(false);
    expect(after.map((v) => [v.id, v.where, v.next])).toEqual([
      [expect.stringMatching(/^do-/), 'DigitalOcean snapshot', true],
      [copy.id, 'local copy', false],
      [before[0]!.id, 'DigitalOcean snapshot', false],
    ]);
    expect(after[0]!.session?.players).toContain('cat');
    expect(copies()).toEqual([copy.name]);

    // The next droplet boots that snapshot as it is: no second push over what cat played.
    expect((await api().start()).status).toBe(202);
    await waitUntil('running again', async () => (await api().server()).phase === 'running', 180_000);
    const fourth = droplets()[0]!;
    expect(fourth.image).toMatchObject({ kind: 'snapshot', snapshot: { name: after[0]!.name } });
    expect(readdirSync(world.machines.paths(fourth.id).minecraft).filter((n) => n.includes('ood-replaced'))).toEqual(aside);
    expect(await play('dan', fourth.ipv4, { at: B, block: 'diamond_block' })).toEqual({ a: 'gold_block', b: 'diamond_block' });
    await stop();

    // Item 2: a restore of the copy. Its snapshot holds the marker of the droplet that first got the
    // copy; the next droplet is another, so it gets the copy again: gold at A, dan's diamond gone (kept aside).
    const restored = await api().call('POST', `/api/servers/world/worlds/${copy.id}/restore`);
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect((await versions()).filter((v) => v.next).map((v) => v.id)).toEqual([copy.id]);
    expect((await api().start()).status).toBe(202);
    await waitUntil('running from the restored copy', async () => (await api().server()).phase === 'running', 180_000);
    const fifth = droplets()[0]!;
    expect(await play('eve', fifth.ipv4)).toEqual({ a: 'gold_block', b: 'air' });
    expect(readdirSync(world.machines.paths(fifth.id).minecraft).filter((n) => n.includes('ood-replaced'))).toHaveLength(aside.length + 1);
    await stop();
    expect(existsSync(join(serverDir(), 'chosen-world.json'))).toBe(false);
    expect(copies()).toEqual([copy.name]);
  }, 1_200_000);
});
