import { existsSync } from 'node:fs';
import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { restoreHoldPath } from '../controller/drivers/digitalocean/start-image.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
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

/**
 * Issue 19 items 1–2 on `driver: digitalocean` (fake API, loopback droplets, the real `pulumi` CLI):
 * two sessions make two snapshots, both listed; a restore of the older one makes the next droplet boot
 * that snapshot, with its world; and the stop after that session keeps the chosen snapshot and the
 * newer one beside the one it makes, though `keepSnapshots: 2` alone would prune v1 there. Copies off
 * the cloud are off here: this file is about snapshots (test/do-copies-versions.test.ts lists both).
 */
describe('world versions on DigitalOcean', () => {
  let world: DoWorld;
  let controller: ControllerProcess;
  beforeAll(async () => {
    world = await makeDoWorld({ server: { digitalocean: { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'], keepSnapshots: 2 }, backups: { enabled: false } } });
    controller = await startControllerProcess(world.configPath, world.env);
  });
  afterAll(async () => {
    await controller?.stop();
    await world?.cleanup();
  });

  const api = () => apiFor(controller.url);
  const droplets = () => [...world.fake.state.droplets.values()].filter((d) => d.status !== 'archive');
  const versions = async () => {
    const res = await api().call('GET', '/api/servers/world/worlds');
    expect(res.status).toBe(200);
    return res.body.versions as Version[];
  };
  const start = async () => {
    expect((await api().start()).status).toBe(202);
    await waitUntil('running', async () => (await api().server()).phase === 'running', 180_000);
    const [droplet] = droplets();
    expect(droplet).toBeDefined();
    return droplet!;
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
      // Counted (RCON `list` over the SSH tunnel) before leaving, so the session a version closed names them.
      await waitUntil(`the API to count ${name}`, async () => (await api().server()).players.names.includes(name), 20_000);
      await waitUntil('the chunk to load', () => bot.blockAt(A) !== null && bot.blockAt(B) !== null, 20_000);
      if (place) {
        bot.chat(`/setblock ${place.at.x} ${place.at.y} ${place.at.z} ${place.block}`);
        await waitUntil(`the ${place.block} to appear`, () => bot.blockAt(place.at)?.name === place.block, 10_000);
      }
      // Player time is counted in whole seconds per stay: a stay under half a second counts as none.
      await new Promise((r) => setTimeout(r, 2_000));
      return { a: bot.blockAt(A)?.name, b: bot.blockAt(B)?.name };
    } finally {
      await leave(bot);
    }
  };

  it('A (v1), B (v2), both listed; restore v1 → the next droplet boots v1 and shows A, not B; the stop after keeps v1, v2, v3; the one after prunes as usual', async () => {
    onTestFailed(() => {
      console.log(`The controller said:\n${controller.output().slice(-8000)}`);
      console.log('Actions that errored:', [...world.fake.state.actions.values()].filter((a) => a.error), world.fake.backgroundErrors);
    });
    await play('ann', (await start()).ipv4, { at: A, block: 'gold_block' });
    await stop();
    expect(await play('bob', (await start()).ipv4, { at: B, block: 'diamond_block' })).toEqual({ a: 'gold_block', b: 'diamond_block' });
    await stop();

    // keepSnapshots 2: v2's stop pruned the base image and kept v1 (with 1 it would have gone, and there
    // would be nothing older to restore).
    const listed = await versions();
    expect(listed).toHaveLength(2);
    expect(listed.every((v) => v.where === 'DigitalOcean snapshot')).toBe(true);
    expect(listed.map((v) => v.next)).toEqual([true, false]);
      const [v2, v1] = listed;
    expect(v2!.session?.players).toContain('bob');
    expect(v1, 'v1 is still listed after v2 was made').toBeDefined();
    expect(v1!.session?.players).toContain('ann');

    const restored = await api().call('POST', `/api/servers/world/worlds/${v1!.id}/restore`);
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect((await versions()).map((v) => [v.id, v.next, v.chosen])).toEqual([
      [v2!.id, false, false],
      [v1!.id, true, true],
    ]);

    const third = await start();
    // The fake's record of the droplet: made from v1's snapshot.
    expect(third.image).toMatchObject({ kind: 'snapshot', snapshot: { name: v1!.name } });
    expect(await play('cat', third.ipv4)).toEqual({ a: 'gold_block', b: 'air' });
    await stop();

    const after = await versions();
    expect(after.map((v) => v.id)).toEqual([expect.not.stringMatching(new RegExp(`^(${v1!.id}|${v2!.id})$`)), v2!.id, v1!.id]);
    expect(after.map((v) => [v.next, v.chosen])).toEqual([
      [true, false],
      [false, false],
      [false, false],
    ]);
    expect(after[0]!.session?.players).toContain('cat');
    // That stop released the restore's hold: the next start boots v3, and its stop prunes as usual
    // (keepSnapshots 2: v4 and v3 stay, v1 and v2 go), as README's "World versions" says.
    expect(existsSync(restoreHoldPath(world.dataDir, 'world'))).toBe(false);
    const v3 = after[0]!;
    const fourth = await start();
    expect(fourth.image).toMatchObject({ kind: 'snapshot', snapshot: { name: v3.name } });
    await stop();
    const last = await versions();
    expect(last.map((v) => v.id)).toEqual([expect.not.stringMatching(new RegExp(`^(${v1!.id}|${v2!.id}|${v3.id})$`)), v3.id]);
  }, 900_000);
});
