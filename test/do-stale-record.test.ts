import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Invariant 7 on a droplet: the snapshot is confirmed, then the destroy fails (DigitalOcean answers
 * 500s) and the server goes to failed. A person presses Start: the droplet is powered on and the game
 * runs again, so the old "saved" record must not let the next stop destroy the droplet without a new
 * snapshot of what happened since.
 */
describe('a stale snapshot record on DigitalOcean', () => {
  let world: DoWorld;
  let controller: ControllerProcess;
  beforeAll(async () => {
    world = await makeDoWorld();
    controller = await startControllerProcess(world.configPath, world.env);
  });
  afterAll(async () => {
    await controller?.stop();
    await world?.cleanup();
  });

  it('is forgotten when the droplet runs again: the next stop takes a new snapshot', async () => {
    onTestFailed(() => console.log(`The controller said:\n${controller.output().slice(-6000)}`));
    const api = apiFor(controller.url);
    const record = join(world.dataDir, 'servers', 'world', 'snapshot.json');
    const snapshotActions = () => [...world.fake.state.actions.values()].filter((a) => a.type === 'snapshot' && a.status === 'completed');
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 120_000);
    const [droplet] = world.fake.state.droplets.keys();

    await api.stop();
    await waitUntil('the snapshot to be confirmed', () => existsSync(record) && readFileSync(record, 'utf8').includes('"saved"'), 120_000);
    // Only deleting the droplet fails: DigitalOcean is up, but it will not remove this one.
    world.fake.faults.serverErrors(1_000, 500, (method, path) => method === 'DELETE' && path.startsWith('/v2/droplets/'));
    const failed = await waitUntil('failed', async () => {
      const s = await api.server();
      return s.phase === 'failed' && s;
    }, 120_000);
    expect(failed.lastError).toMatch(/destroy failed/);
    world.fake.faults.reset();
    expect(world.fake.state.droplets.get(droplet!)?.status).toBe('off');

    await api.start();
    await waitUntil('running on the same droplet', async () => (await api.server()).phase === 'running', 120_000);
    expect([...world.fake.state.droplets.keys()]).toEqual([droplet]);
    // The stack the failed destroy left half gone was made whole again before the game ran: firewall back.
    expect([...world.fake.state.firewalls.values()].map((f) => f.dropletIds)).toEqual([[droplet]]);
    // The game runs there again: the record no longer speaks for this droplet.
    expect(existsSync(record) && readFileSync(record, 'utf8').includes(`"dropletId": ${droplet}`)).toBe(false);

    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 120_000);
    expect(snapshotActions()).toHaveLength(2);
    expect(world.fake.state.droplets.size).toBe(0);
  }, 400_000);
});
