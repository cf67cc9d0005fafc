import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { extractArchive } from '../controller/drivers/local/archive.js';
import { parseProperties } from '../controller/minecraft/properties.js';
import { RconSession } from '../controller/minecraft/rcon.js';
import { copiesDir, listCopies } from '../controller/worlds/copies.js';
import { savingOffPath } from '../controller/worlds/saving-pause.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { waitUntil } from './helpers/wait.js';
import { blockOnDisk } from './helpers/world-blocks.js';

const A = new Vec3(2, 6, 2);
const B = new Vec3(4, 6, 4);
const EVERY_S = 12;

/**
 * Issue 19 item 4 on `driver: digitalocean` (fake API, loopback droplets running the bundled game,
 * the real `pulumi` CLI): copies of the world off the droplet while a bot plays (backups.every
 * shortened to 12 s), a kill -9 of the controller in the middle of one (saving is back on after the
 * restart, and the world intact), and the stop's own copy after the game's final save.
 */
describe('copies of the world off a droplet, during play', () => {
  let world: DoWorld;
  let controller: ControllerProcess;
  const work = mkdtempSync(join(tmpdir(), 'ood-do-copies-'));
  beforeAll(async () => {
    world = await makeDoWorld({
      server: { backups: { every: `${EVERY_S}s`, keep: 3 }, deadlines: { booting: '90s', stopping: '60s', poweringOff: '20s' } },
    });
    controller = await startControllerProcess(world.configPath, world.env);
  });
  afterAll(async () => {
    await controller?.stop();
    await world?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const api = () => apiFor(controller.url);
  const droplet = () => [...world.fake.state.droplets.values()].find((d) => d.status !== 'archive')!;
  const paths = () => world.machines.paths(droplet().id);
  const gameLog = () => readFileSync(join(paths().log, 'minecraft.log'), 'utf8');
  const count = (text: string, line: string) => text.split(line).length - 1;
  const copies = () => listCopies(world.dataDir, 'world');
  /** The test's own RCON to the droplet's game (on the droplet's address; the password from its disk). */
  const rcon = new RconSession(10_000);
  const ask = (command: string) => {
    const props = parseProperties(readFileSync(join(paths().minecraft, 'server.properties'), 'utf8'));
    return rcon.send({ host: droplet().ipv4, port: world.rconPort, password: props.get('rcon.password')! }, command);
  };
  /** Waits for a copy made after `after` (ms) and unpacks it; returns its folder. */
  const copyAfter = async (what: string, after: number, withinMs = 90_000) => {
    const copy = await waitUntil(what, async () => (await copies()).find((c) => c.ts * 1000 >= Math.floor(after / 1000) * 1000 + 1000), withinMs, 200);
    const into = join(work, copy.name);
    if (!existsSync(into)) await extractArchive(join(copiesDir(world.dataDir, 'world'), copy.name), into);
    return into;
  };

  it('copies during play hold the bot\'s block; a kill -9 mid-copy leaves saving off, the restart turns it on; the stop takes its own copy', async () => {
    onTestFailed(() => {
      console.log(`The controller said:\n${controller.output().slice(-8000)}`);
      try {
        console.log(`The game said:\n${gameLog().slice(-3000)}`);
      } catch (err) {
        console.log('No game log', err);
      }
    });
    expect((await api().start()).status).toBe(202);
    await waitUntil('running', async () => (await api().server()).phase === 'running', 180_000);
    const bot = await joinBot(world.gamePort, 'ann', droplet().ipv4);
    try {
      await waitUntil('the API to count ann', async () => (await api().server()).players.names.includes('ann'), 20_000);
      await waitUntil('the chunk to load', () => bot.blockAt(A) !== null, 20_000);
      bot.chat(`/setblock ${A.x} ${A.y} ${A.z} gold_block`);
      await waitUntil('the gold to appear', () => bot.blockAt(A)?.name === 'gold_block', 10_000);
      const placedA = Date.now();

      // 1. A copy during play, every 12 s while someone is on: it holds the block, as a local archive
      // holds a world (the level-name folder and server.properties, without the droplet's RCON password).
      const first = await copyAfter('a copy made after the gold was placed', placedA);
      expect(await blockOnDisk(join(first, 'world'), A)).toBe('gold_block');
      expect(readdirSync(first).sort()).toEqual(['server.properties', 'world']);
      const copiedProps = readFileSync(join(first, 'server.properties'), 'utf8');
      expect(copiedProps).toMatch(/enable-rcon=true/);
      expect(copiedProps).not.toMatch(/rcon\.password/);
      // save-off and save-on went to the game around it, and saving is on now.
      expect(count(gameLog(), 'Automatic saving is now disabled')).toBeGreaterThanOrEqual(1);
      expect(await ask('save-on')).toBe('Saving is already turned on');
      expect(existsSync(savingOffPath(world.dataDir, 'world'))).toBe(false);

      // 2. A copy made slow by 200 MB that gzip cannot shrink; the controller is killed once the game
      // has turned saving off for it (its log says so), so the copy is cut off in the middle.
      const ballast = join(paths().minecraft, 'world', 'ood-test-ballast.bin');
      const out = createWriteStream(ballast);
      for (let i = 0; i < 200; i++) if (!out.write(randomBytes(1 << 20))) await once(out, 'drain');
      out.end();
      await once(out, 'close');
      const offsBefore = count(gameLog(), 'Automatic saving is now disabled');
      await waitUntil('the next copy to turn saving off', () => count(gameLog(), 'Automatic saving is now disabled') > offsBefore, (EVERY_S + 30) * 1000, 20);
      await controller.kill9();
      // The kill left the game with saving off (a save-off now changes nothing), and the marker says so.
      expect(await ask('save-off')).toBe('Saving is already turned off');
      expect(existsSync(savingOffPath(world.dataDir, 'world'))).toBe(true);
      rmSync(ballast);

      const onsBefore = count(gameLog(), 'Automatic saving is now enabled');
      const logAtKill = gameLog().length;
      controller = await startControllerProcess(world.configPath, world.env);
      await waitUntil('the restarted controller to turn saving back on', () => count(gameLog(), 'Automatic saving is now enabled') > onsBefore, 60_000, 100);
      // By its check of the marker, at once: not only by the save-on that ends the next copy.
      const since = gameLog().slice(logAtKill);
      const disabledAgain = since.indexOf('Automatic saving is now disabled');
      expect(disabledAgain === -1 || since.indexOf('Automatic saving is now enabled') < disabledAgain, since).toBe(true);
      await waitUntil('the marker to be removed', () => !existsSync(savingOffPath(world.dataDir, 'world')), 10_000);
      expect(await ask('save-on')).toBe('Saving is already turned on');
      const journal = await api().call('GET', '/api/servers/world/journal?limit=200');
      expect(JSON.stringify(journal.body)).toMatch(/Turned saving back on \(save-on\), off since .* for a copy that was cut off/);

      // The world is intact and saves again: a block placed after the restart is in the next copy, beside the first.
      expect((await api().server()).phase).toBe('running');
      bot.chat(`/setblock ${B.x} ${B.y} ${B.z} diamond_block`);
      await waitUntil('the diamond to appear', () => bot.blockAt(B)?.name === 'diamond_block', 10_000);
      const placedB = Date.now();
      const second = await copyAfter('a copy made after the restart and the diamond', placedB);
      expect(await blockOnDisk(join(second, 'world'), A)).toBe('gold_block');
      expect(await blockOnDisk(join(second, 'world'), B)).toBe('diamond_block');
      expect(existsSync(join(second, 'world', 'ood-test-ballast.bin'))).toBe(false);
      // What the kill cut off was never listed, and the next copy cleared its partial file.
      expect(readdirSync(copiesDir(world.dataDir, 'world')).filter((n) => n.endsWith('.partial'))).toEqual([]);
      expect((await copies()).length).toBeLessThanOrEqual(3);
    } finally {
      await leave(bot);
      await rcon.close();
    }

    // 3. The stop's own copy: after the game's final save, before the droplet is shut down.
    expect((await api().stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api().server()).phase === 'archived', 240_000);
    const rows = JSON.stringify((await api().call('GET', '/api/servers/world/journal?limit=200')).body);
    expect(rows).toMatch(/Copied the world \(world\) off the droplet to copies\/ood-\d+\.tar\.gz: [\d.]+ MB in [\d.]+ s \(the tar and its read-back [\d.]+ s\); saving was off for [\d.]+ s/);
    // The stop's copy: the game had exited, so saving was not paused. Found by its journal row, not by
    // its name's second: a copy's name is one second past the newest before it, which can be the very
    // second the stop was asked in (seen once, when a copy during play came just before).
    const stopCopy = /Copied the world \(world\) off the droplet to copies\/(ood-\d+\.tar\.gz): [\d.]+ MB in [\d.]+ s \(the tar and its read-back [\d.]+ s\)(?!; saving)/.exec(rows)?.[1];
    expect(stopCopy).toBeDefined();
    const last = join(work, `stop-${stopCopy!}`);
    await extractArchive(join(copiesDir(world.dataDir, 'world'), stopCopy!), last);
    expect(await blockOnDisk(join(last, 'world'), B)).toBe('diamond_block');
    expect((await copies()).length).toBeLessThanOrEqual(3);
  }, 900_000);
});
