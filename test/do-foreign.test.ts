import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { statusPing } from '../controller/minecraft/status-ping.js';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { waitUntil } from './helpers/wait.js';

interface OrphanJson {
  kind: string;
  server: string | null;
  dropletId: number;
  message: string;
  removed: boolean;
}

/**
 * Issue 17 items 4 and 6: two installations on one DigitalOcean account with the SAME server id
 * `world`. B's droplet runs B's game; A observes, starts, stops and looks for orphans with
 * `orphans.remove` on. A never powers B's droplet off, snapshots or deletes it (it is another
 * installation's: tagged `ood:installation:bbbb0002`), reports it as foreign, and makes its own
 * droplet for its own start.
 */
describe('a droplet of another installation with the same server id', () => {
  let world: DoWorld;
  let otherDir: string;
  let configA: string;
  let configB: string;
  const running: ControllerProcess[] = [];

  beforeAll(async () => {
    // The world claims a loopback /24 of its own (test/helpers/loopback-block.ts) and free game ports.
    world = await makeDoWorld({ installation: 'aaaa0001' });
    const config = parse(readFileSync(world.configPath, 'utf8')) as Record<string, unknown>;
    // A deletes what it may: a droplet it wrongly took for a stray of its own would go.
    configA = join(world.dir, 'ood-a.yaml');
    writeFileSync(configA, stringify({ ...config, orphans: { remove: true } }));
    otherDir = mkdtempSync(join(tmpdir(), 'ood-do-foreign-'));
    mkdirSync(join(otherDir, 'data'), { recursive: true });
    writeFileSync(join(otherDir, 'data', 'installation-id'), 'bbbb0002\n');
    configB = join(otherDir, 'ood.yaml');
    writeFileSync(configB, stringify({ ...config, dataDir: join(otherDir, 'data') }));
    world.fake.addSnapshot({ name: `ood-bbbb0002-world-${Math.floor(Date.now() / 1000) - 86_000}`, archive: join(world.dir, 'base.tar.gz'), sizeGigabytes: 1 });
  });
  afterAll(async () => {
    for (const c of running) await c.stop();
    await world?.cleanup();
    rmSync(otherDir, { recursive: true, force: true });
  });

  async function controller(configPath: string): Promise<ControllerProcess> {
    const c = await startControllerProcess(configPath, world.env);
    running.push(c);
    onTestFailed(() => console.log(`The controller of ${configPath} said:\n${c.output().slice(-8000)}`));
    return c;
  }
  async function stopController(c: ControllerProcess): Promise<void> {
    await c.stop();
    running.splice(running.indexOf(c), 1);
  }
  const live = () => [...world.fake.state.droplets.values()].filter((d) => d.status !== 'archive');
  /** Every request that could change droplet `id`: an action (power, snapshot) or a delete. */
  const touching = (id: number) => world.fake.requests.filter((r) => r.method !== 'GET' && r.path.startsWith(`/v2/droplets/${id}`));

  it("A never shuts down, snapshots or deletes B's droplet, reports it as foreign, and starts on a droplet of its own", async () => {
    // B starts `world`: its droplet runs its game. B's controller then goes away; the droplet stays.
    const b = await controller(configB);
    const apiB = apiFor(b.url);
    expect((await apiB.start()).status).toBe(202);
    await waitUntil('B running', async () => (await apiB.server()).phase === 'running', 120_000);
    await stopController(b);
    const [theirs] = live();
    expect(theirs!.tags).toEqual(['ood', 'ood-world', 'ood:installation:bbbb0002']);
    const ip = theirs!.ipv4;
    expect((await statusPing(ip, world.gamePort)).version.name).toBeTruthy();
    const requestsBefore = touching(theirs!.id).length;

    // A starts up with orphans.remove: its first look (a second after start) reports B's droplet, as foreign.
    const a = await controller(configA);
    const apiA = apiFor(a.url);
    const seen = await waitUntil(
      'the orphan watch of A',
      async () => {
        const { body } = await apiA.call('GET', '/api/orphans');
        return body.checkedAt ? (body.orphans as OrphanJson[]) : undefined;
      },
      30_000,
      200,
    );
    expect(seen).toEqual([expect.objectContaining({ kind: 'foreign', server: 'world', dropletId: theirs!.id, removed: false })]);
    expect(seen[0]!.message).toMatch(/belongs to installation bbbb0002/);
    // A observes nothing of its own: `world` stays archived on A's side.
    expect((await apiA.server()).phase).toBe('archived');
    expect(a.output()).toMatch(new RegExp(`Droplet ${theirs!.id} \\(ood-world\\) is tagged ood-world but is not this installation's`));

    // A's start makes A's own droplet beside B's; A's stop archives it and leaves B's running.
    expect((await apiA.start()).status).toBe(202);
    await waitUntil('A running', async () => (await apiA.server()).phase === 'running', 120_000);
    const ours = live().filter((d) => d.id !== theirs!.id);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.tags).toEqual(['ood', 'ood-world', 'ood:installation:aaaa0001']);
    expect((await apiA.server()).address).toBe(`${ours[0]!.ipv4}:${world.gamePort}`);
    expect((await apiA.stop()).status).toBe(202);
    await waitUntil('A archived', async () => (await apiA.server()).phase === 'archived', 180_000);
    expect((await apiA.server()).lastError).toBeNull();
    expect(world.fake.state.droplets.has(ours[0]!.id) && world.fake.state.droplets.get(ours[0]!.id)!.status !== 'archive').toBe(false);

    // B's droplet: still active, never asked to act or to go, no snapshot of it, and its game still answers.
    expect(world.fake.state.droplets.get(theirs!.id)?.status).toBe('active');
    expect(touching(theirs!.id).slice(requestsBefore)).toEqual([]);
    expect([...world.fake.state.snapshots.values()].filter((s) => s.resourceId === theirs!.id)).toEqual([]);
    expect((await statusPing(ip, world.gamePort)).version.name).toBeTruthy();
  }, 600_000);
});
