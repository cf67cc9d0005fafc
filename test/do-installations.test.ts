import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Two installations of OoD on one DigitalOcean account (a test install beside the real one), each with
 * one server `world` and the default prefix `ood`: two controllers with their own data dirs against one
 * fake account. Neither boots nor prunes the other's snapshots, nor a snapshot made by hand.
 */
describe('two installations on one DigitalOcean account', () => {
  let world: DoWorld;
  let otherDir: string;
  let otherConfig: string;
  const running: ControllerProcess[] = [];
  beforeAll(async () => {
    // keepSnapshots 1: every stop prunes, so a prune that reached another's snapshot would show.
    world = await makeDoWorld({
      installation: 'aaaa0001',
      server: { digitalocean: { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'], keepSnapshots: 1 } },
    });
    otherDir = mkdtempSync(join(tmpdir(), 'ood-do-other-'));
    mkdirSync(join(otherDir, 'data'), { recursive: true });
    writeFileSync(join(otherDir, 'data', 'installation-id'), 'bbbb0002\n');
    const config = parse(readFileSync(world.configPath, 'utf8')) as Record<string, unknown>;
    otherConfig = join(otherDir, 'ood.yaml');
    writeFileSync(otherConfig, stringify({ ...config, dataDir: join(otherDir, 'data') }));
    // B's base image and a hand-made `ood-<unix seconds>`, both made after A's base image: newer by created_at.
    const archive = join(world.dir, 'base.tar.gz');
    const now = Date.now();
    world.fake.addSnapshot({ name: `ood-bbbb0002-world-${Math.floor(now / 1000) - 86_000}`, archive, sizeGigabytes: 1, createdAt: new Date(now + 1_000).toISOString() });
    world.fake.addSnapshot({ name: `ood-${Math.floor(now / 1000)}`, archive, sizeGigabytes: 1, createdAt: new Date(now + 2_000).toISOString() });
  });
  afterAll(async () => {
    for (const c of running) await c.stop();
    await world?.cleanup();
    rmSync(otherDir, { recursive: true, force: true });
  });

  const listed = () => [...world.fake.state.snapshots.values()].filter((s) => s.listedAt <= Date.now()).map((s) => s.name).sort();
  const droplets = () => [...world.fake.state.droplets.values()].filter((d) => d.status !== 'archive');

  /** One session of `world` on the installation of `configPath`: start, running, stop, archived; the image it booted. */
  async function session(configPath: string): Promise<string> {
    const controller = await startControllerProcess(configPath, world.env);
    running.push(controller);
    onTestFailed(() => console.log(`The controller said:\n${controller.output().slice(-8000)}`));
    const api = apiFor(controller.url);
    expect((await api.start()).status).toBe(202);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 120_000);
    const [droplet] = droplets();
    const image = (droplet!.image as { snapshot?: { name: string } }).snapshot?.name ?? '';
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 180_000);
    expect((await api.server()).lastError).toBeNull();
    await controller.stop();
    running.splice(running.indexOf(controller), 1);
    return image;
  }

  it('each boots its own newest snapshot and prunes only its own', async () => {
    const before = listed();
    expect(before).toHaveLength(3);
    const baseA = before.find((n) => n.startsWith('ood-aaaa0001-world-'))!;
    const baseB = before.find((n) => n.startsWith('ood-bbbb0002-world-'))!;
    const handMade = before.find((n) => /^ood-\d{10}$/.test(n))!;
    expect([baseA, baseB, handMade].every(Boolean)).toBe(true);

    // A boots its base image though B's and the hand-made one are newer; its stop prunes only its base.
    expect(await session(world.configPath)).toBe(baseA);
    const sessionA = listed().find((n) => /^ood-aaaa0001-world-/.test(n) && n !== baseA)!;
    expect(listed()).toEqual([baseB, handMade, sessionA].sort());

    // B boots its base image though A's session snapshot is newer; its stop prunes only its base.
    expect(await session(otherConfig)).toBe(baseB);
    const sessionB = listed().find((n) => /^ood-bbbb0002-world-/.test(n) && n !== baseB)!;
    expect(listed()).toEqual([handMade, sessionA, sessionB].sort());

    // A again: its own session snapshot, not B's newer one.
    expect(await session(world.configPath)).toBe(sessionA);
    expect(listed()).toContain(sessionB);
    expect(listed()).toContain(handMade);
  }, 900_000);
});
