import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { waitUntil } from './helpers/wait.js';

/**
 * kill -9 of the controller while it provisions (Pulumi up in flight), while a snapshot action runs,
 * and while it destroys: each restart converges to what is wanted, with at most one droplet at any
 * moment and no snapshot lost or taken twice (invariants 1–3 on DigitalOcean).
 */
describe('kill -9 on the DigitalOcean driver', () => {
  let world: DoWorld;
  let controller: ControllerProcess;
  let mostDroplets = 0;
  let sampler: NodeJS.Timeout;
  beforeAll(async () => {
    // Slow actions, so a snapshot is still in progress when the controller dies.
    // keepSnapshots 2 stated: unset it is 1 while backups are on (the default on DigitalOcean).
    world = await makeDoWorld({ fake: { actionDelayMs: 2_500 }, server: { digitalocean: { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'], keepSnapshots: 2 } } });
    sampler = setInterval(() => (mostDroplets = Math.max(mostDroplets, world.fake.state.droplets.size)), 20);
    controller = await startControllerProcess(world.configPath, world.env);
  });
  afterAll(async () => {
    clearInterval(sampler);
    await controller?.stop();
    await world?.cleanup();
  });

  const api = () => apiFor(controller.url);
  /** Kills the controller once `step` has started (its intent is journaled, its outcome not), after `afterMs`. */
  async function killDuring(step: string, afterMs: number, also: () => boolean = () => true): Promise<void> {
    await waitUntil(`${step} to start`, async () => (await api().journal()).some((e) => e.step === step && e.outcome === null) && also(), 120_000, 20);
    await new Promise((r) => setTimeout(r, afterMs));
    await controller.kill9();
    controller = await startControllerProcess(world.configPath, world.env);
  }
  const snapshotActions = () => [...world.fake.state.actions.values()].filter((a) => a.type === 'snapshot');
  const snapshots = () => [...world.fake.state.snapshots.values()].map((s) => s.name);

  it('converges after kills in provisioning, snapshotting and destroying', async () => {
    onTestFailed(() => console.log(`The controller said:\n${controller.output().slice(-6000)}`));
    const base = snapshots();
    await api().start();
    // Inside Pulumi's update itself: the engine has begun creating resources.
    await killDuring('provision', 0, () => world.fake.requests.some((r) => r.method === 'POST' && r.userAgent.includes('pulumi')));
    await waitUntil('running after the restart', async () => (await api().server()).phase === 'running', 180_000);
    expect(world.fake.state.droplets.size).toBe(1);
    // The update the kill cut off was finished: the droplet has its firewall (RCON closed, SSH narrowed).
    const [droplet] = world.fake.state.droplets.keys();
    expect([...world.fake.state.firewalls.values()].map((f) => f.dropletIds)).toEqual([[droplet]]);

    await api().stop();
    await killDuring('snapshot', 500, () => snapshotActions().some((a) => a.status === 'in-progress'));
    await waitUntil('archived after the restart', async () => (await api().server()).phase === 'archived', 180_000);
    // The snapshot asked for before the kill was found again, not asked for twice.
    expect(snapshotActions()).toHaveLength(1);
    expect(snapshots()).toHaveLength(base.length + 1);
    expect(world.fake.state.droplets.size).toBe(0);

    await api().start();
    await waitUntil('running again', async () => (await api().server()).phase === 'running', 180_000);
    await api().stop();
    await killDuring('destroy', 300);
    await waitUntil('archived after the last restart', async () => (await api().server()).phase === 'archived', 180_000);
    expect(world.fake.state.droplets.size).toBe(0);
    expect(snapshotActions().map((a) => a.status)).toEqual(['completed', 'completed']);
    // keepSnapshots 2: the two session snapshots, never one that was not confirmed.
    expect(snapshots()).toHaveLength(2);
    expect(mostDroplets).toBe(1);
    expect((await api().server()).lastError).toBeNull();
    // Each kill landed inside its step.
    const cut = (await api().journal()).filter((e) => e.outcome === 'interrupted').map((e) => e.step);
    expect(cut).toEqual(['provision', 'snapshot', 'destroy']);
    // The real engine records an update only when it ends: the two cut off by a kill left no entry.
    // Each start and stop is there once, succeeded; a refresh that settled what the first kill left
    // pending may stand between them.
    // The API waits 2 s at most for Pulumi to read the stack; it says `stackLoading` until the read is done.
    const history = await waitUntil('the stack history', async () => {
      const body = (await api().call('GET', '/api/servers/world/history')).body as { stack: { kind: string; result: string }[]; stackLoading: boolean };
      return !body.stackLoading && body;
    }, 60_000, 500);
    const updates = history.stack.map((u) => `${u.kind} ${u.result}`).reverse();
    expect(updates.filter((u) => !u.startsWith('refresh'))).toEqual(['update succeeded', 'destroy succeeded', 'update succeeded', 'destroy succeeded']);
    expect(updates.filter((u) => u.endsWith('failed'))).toEqual([]);
  }, 600_000);
});
