import { Rcon } from 'rcon-client';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHostProcesses } from '../controller/drivers/local/processes.js';
import { parseProperties } from '../controller/minecraft/properties.js';
import { listArchives } from '../controller/drivers/local/archive.js';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const MARK = new Vec3(2, 6, 2);

describe('life cycle on a real Minecraft server with a real client', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome({ server: { idle: { emptyAfter: '3s', neverJoined: '1h', warnings: ['1s'] } } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('starts, counts a player, archives when empty, and restores the change', async () => {
    const api = apiFor(serving.url);
    expect((await api.start()).status).toBe(202);
    const running = await waitUntil('running', async () => (await api.server()).phase === 'running' && api.server());
    expect(running.address).toBe(`127.0.0.1:${home.gamePort}`);

    const bot = await joinBot(home.gamePort, 'ann');
    // The API and RCON `list` both see her.
    await waitUntil('the API to count ann', async () => (await api.server()).players.names.includes('ann'));
    const password = parseProperties(readFileSync(join(home.hostDir(), 'server.properties'), 'utf8')).get('rcon.password')!;
    const rcon = await Rcon.connect({ host: '127.0.0.1', port: home.rconPort, password });
    expect(await rcon.send('list')).toMatch(/^There are 1 of a max of \d+ players online: ann$/);
    await rcon.end();

    // She changes the world: a gold block in the air above the grass.
    bot.chat(`/setblock ${MARK.x} ${MARK.y} ${MARK.z} gold_block`);
    await waitUntil('the block to appear', () => bot.blockAt(MARK)?.name === 'gold_block', 10_000);
    const leftAt = Date.now();
    await leave(bot);

    // Nobody online: the idle policy stops it after emptyAfter (3 s), not before.
    const stopping = await waitUntil('the idle stop', async () => {
      const s = await api.server();
      return s.desired === 'down' && s;
    });
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(3_000);
    expect(stopping.lastError).toBeNull();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000);
    const archives = await listArchives(home.archiveDir());
    expect(archives).toHaveLength(1);
    expect(existsSync(home.hostDir())).toBe(false);
    expect(await findHostProcesses(home.hostDir())).toEqual([]);
    const journal = await api.journal();
    expect(journal.some((e) => e.step === 'warn' && e.outcome === 'ok')).toBe(true);
    expect(journal.find((e) => e.step === 'idle_stop')?.outcome).toBe('ok');

    // Start again: the gold block is still there.
    await api.start();
    await waitUntil('running again', async () => (await api.server()).phase === 'running', 60_000);
    const bob = await joinBot(home.gamePort, 'bob');
    await waitUntil('the API to count bob', async () => (await api.server()).players.names.includes('bob'));
    await waitUntil('the chunk to load', () => bob.blockAt(MARK) !== null, 10_000);
    expect(bob.blockAt(MARK)?.name).toBe('gold_block');
    await leave(bob);
    await waitUntil('bob to be seen leaving', async () => (await api.server()).players.online === 0, 10_000);
    const sightings = serving.controller.store.sightings.list('world');
    expect(sightings.map((x) => x.player).sort()).toEqual(['ann', 'bob']);
    for (const x of sightings) expect(x.lastSeen).toBeGreaterThan(x.firstSeen);
    expect(journal.filter((e) => e.step === 'provision')).toHaveLength(1);
    expect((await api.journal()).find((e) => e.step === 'provision' && e.id > journal.at(-1)!.id)?.detail).toBe(`Restored ${archives[0]!.name}`);
  });
});
