import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { waitUntil } from './helpers/wait.js';

/** What goes wrong on DigitalOcean's side, on the whole stack: the fake API, loopback droplets, the real `pulumi` CLI with OoD's provider plugin. */
describe('DigitalOcean faults', () => {
  let world: DoWorld | undefined;
  let controller: ControllerProcess | undefined;
  afterEach(async () => {
    await controller?.stop();
    await world?.cleanup();
    world = undefined;
    controller = undefined;
  });

  async function open(server: Record<string, unknown> = {}) {
    world = await makeDoWorld({ server });
    controller = await startControllerProcess(world.configPath, world.env);
    const c = controller;
    onTestFailed(() => console.log(`The controller said:\n${c.output().slice(-6000)}`));
    return { world, api: apiFor(controller.url) };
  }
  const dropletsOf = (w: DoWorld) => [...w.fake.state.droplets.values()];
  const snapshotsOf = (w: DoWorld) => [...w.fake.state.snapshots.values()].map((s) => s.name);

  it('an errored snapshot action fails the stop, keeps the droplet and says why; Stop again finishes', async () => {
    const { world, api } = await open();
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 120_000);
    world.fake.faults.snapshotActions = 'errored';
    await api.stop();
    const failed = await waitUntil('failed', async () => {
      const s = await api.server();
      return s.phase === 'failed' && s;
    }, 120_000);
    expect(failed.lastError).toMatch(/Snapshot ood-[0-9a-f]{8}-world-\d+ of droplet \d+ failed: .*errored.*The droplet is kept/);
    expect(dropletsOf(world).map((d) => d.status)).toEqual(['off']);
    expect(snapshotsOf(world)).toHaveLength(1);

    world.fake.faults.snapshotActions = 'ok';
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 120_000);
    expect(dropletsOf(world)).toEqual([]);
    // The session's snapshot, confirmed; the base image it started from is pruned (keepSnapshots is 1
    // by default while copies off the cloud are on).
    expect(snapshotsOf(world)).toEqual([expect.stringMatching(/^ood-[0-9a-f]{8}-world-\d+$/)]);
  }, 300_000);

  it('a shutdown that never finishes is followed by power_off', async () => {
    const { world, api } = await open({ deadlines: { booting: '90s', stopping: '30s', poweringOff: '3s' } });
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 120_000);
    world.fake.faults.shutdownNeverFinishes = true;
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 120_000);
    const powerDown = (await api.journal()).find((e) => e.step === 'power_down');
    expect(powerDown?.detail).toMatch(/did not shut down within 3s.*powered it off/);
    const types = [...world.fake.state.actions.values()].map((a) => `${a.type} ${a.status}`);
    expect(types).toEqual(expect.arrayContaining(['power_off completed', 'snapshot completed']));
    expect(dropletsOf(world)).toEqual([]);
  }, 300_000);

  it('a storm of 429s: every client waits as retry-after says, and the start still completes', async () => {
    const { world, api } = await open();
    world.fake.faults.rateLimit(8, 1);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 180_000);
    const log = world.fake.requests;
    onTestFailed(() => console.log(log.slice(0, 40).map((r) => `${r.at} ${r.status} ${r.method} ${r.path} ${r.userAgent}`).join('\n')));
    const limited = log.filter((r) => r.status === 429);
    expect(limited).toHaveLength(8);
    for (const r of limited) {
      // Once told, the client sends nothing until retry-after has passed (a request already on its way,
      // a few ms behind, is not one it was told about).
      const tooSoon = log.filter((n) => n.userAgent === r.userAgent && n.at > r.at + 50 && n.at < r.at + 950);
      expect(tooSoon.map((n) => `${n.method} ${n.path} ${n.at - r.at} ms after a 429`)).toEqual([]);
    }
    expect(new Set(limited.map((r) => r.userAgent)).size).toBeGreaterThanOrEqual(1);
    expect(dropletsOf(world)).toHaveLength(1);
  }, 300_000);

  it('reports a droplet tagged ood that no stack owns, and leaves it alone', async () => {
    const setup = await makeDoWorld();
    world = setup;
    const res = await fetch(`${setup.fake.url}/v2/droplets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'forgotten', region: 'fra1', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags: ['ood', 'ood-creative'] }),
    });
    expect(res.status).toBe(202);
    const { droplet } = (await res.json()) as { droplet: { id: number } };
    controller = await startControllerProcess(setup.configPath, setup.env);
    const api = apiFor(controller.url);
    const { orphans } = await waitUntil('the orphan watch to look', async () => {
      const body = (await api.call('GET', '/api/orphans')).body as { checkedAt: string | null; orphans: { dropletId: number; message: string; removed: boolean }[] };
      return body.checkedAt !== null && body;
    }, 30_000);
    expect(orphans).toEqual([expect.objectContaining({ dropletId: droplet.id, removed: false, message: expect.stringMatching(/tagged ood but belongs to no configured server; it is billed until deleted/) as unknown })]);
    expect(controller.output()).toMatch(/belongs to no configured server/);
    expect(setup.fake.state.droplets.has(droplet.id)).toBe(true);
  }, 120_000);
});
