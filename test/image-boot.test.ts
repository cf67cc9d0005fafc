import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vec3 } from 'vec3';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { mountsUnder, playInChroot, playRecap, processesRootedIn } from './ansible/chroot-playbook.js';
import { startFakeDigitalOcean, type FakeDo } from './fake-do/server.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { debianRoot } from './helpers/debian-root.js';
import { claimLoopbackBlock, freePortEverywhere, type LoopbackBlock } from './helpers/loopback-block.js';
import { realPulumiForOod } from './helpers/real-pulumi.js';
import { waitUntil } from './helpers/wait.js';
import { LoopbackMachines } from './loopback-droplet/loopback-machines.js';
import { archiveRoot } from './loopback-droplet/rootfs-archive.js';
import { bundledGameInRoot } from './loopback-droplet/rootfs-game.js';

const PLAYBOOK_TIMEOUT_MS = 15 * 60_000;
const MARK = new Vec3(3, 6, 3);

/**
 * Boot what was built: the Ansible role makes a Debian 13 root into a Minecraft host (through the
 * chroot connection, apt and all), that root becomes the base image `ood-<ts>` of the fake
 * DigitalOcean API, and OoD's DigitalOcean driver runs a whole session on it: droplets whose own sshd
 * and supervisord run from inside the unpacked root (rootfs loopback droplets, in a claimed loopback block). The
 * only change to what the role makes is its `minecraft_command`: OoD's bundled game in place of Java,
 * run by this host's node, which each boot lends the droplet read-only with this repository.
 */
describe('boot what was built', () => {
  const game = bundledGameInRoot();
  let work = '';
  let root = '';
  let fake: FakeDo | undefined;
  let machines: LoopbackMachines | undefined;
  let controller: ControllerProcess | undefined;
  let block: LoopbackBlock | undefined;
  let gamePort = 0;
  let rconPort = 0;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ood-image-boot-'));
  });
  afterAll(async () => {
    const errors: unknown[] = [];
    for (const step of [() => controller?.stop(), () => fake?.close(), () => machines?.close(), () => block?.release()]) {
      await Promise.resolve(step()).catch((err: unknown) => errors.push(err));
    }
    // Never rm -rf through a mount: whatever is left mounted stays for a human, and fails the run.
    const left = [...(root ? mountsUnder(root) : []), ...mountsUnder(work)];
    if (left.length === 0) {
      if (root) rmSync(root, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    } else errors.push(new Error(`Mounts left behind: ${left.join(', ')}; unmount them, then remove ${work} and ${root}`));
    if (errors.length > 0) throw new AggregateError(errors, `Clean-up of the image boot test failed: ${errors.map((e) => (e as Error).message).join('; ')}`);
  });

  it('builds a Debian root into a Minecraft host with the playbook, and makes it the base image', async () => {
    root = await debianRoot({ include: ['python3', 'python3-apt'] });
    // Debian's way to keep package scripts from starting daemons in a chroot; removed before the snapshot.
    const policy = join(root, 'usr', 'sbin', 'policy-rc.d');
    writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    const jar = join(work, 'server.jar');
    writeFileSync(jar, 'not a real server jar: the bundled game runs in its place\n');
    const vars = join(work, 'vars.json');
    writeFileSync(
      vars,
      JSON.stringify({
        minecraft_server_jar_src: jar,
        minecraft_server_sha256: createHash('sha256').update(readFileSync(jar)).digest('hex'),
        minecraft_command: game.command.join(' '),
        minecraft_online_mode: false,
        minecraft_extra_properties: { 'ood-test-everybody-op': true },
        minecraft_prepare_snapshot: true,
      }),
    );
    const played = await playInChroot(root, vars, PLAYBOOK_TIMEOUT_MS);
    console.log(`image boot: playbook on the chroot took ${(played.ms / 1000).toFixed(1)} s`);
    expect(played.code, played.output.slice(-6000)).toBe(0);
    expect(playRecap(played.output, root)).toMatchObject({ failed: 0, unreachable: 0 });
    expect(mountsUnder(root)).toEqual([]);
    expect(processesRootedIn(root)).toEqual([]);
    rmSync(policy);
    const conf = readFileSync(join(root, 'etc', 'supervisor', 'conf.d', 'minecraft.conf'), 'utf8');
    expect(conf).toContain(`command=${game.command.join(' ')}\n`);

    const archive = join(work, 'base-image.tar.zst');
    const started = Date.now();
    const { bytes } = await archiveRoot('the built root', root, archive, 300_000);
    console.log(`image boot: base image ${(bytes / 1e6).toFixed(0)} MB, archived in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    rmSync(root, { recursive: true, force: true });
    root = '';

    machines = new LoopbackMachines({
      baseDir: join(work, 'cloud'),
      bootTimeoutMs: 60_000,
      rootfs: {
        distribution: (slug) => Promise.reject(new Error(`This test boots only its built image, not the distribution ${slug}`)),
        binds: game.binds,
      },
    });
    mkdirSync(join(work, 'cloud', 'snapshots'), { recursive: true });
    // Addresses and ports no other process here uses: a second test run or an OoD on this machine cannot collide.
    block = await claimLoopbackBlock();
    gamePort = await freePortEverywhere();
    do rconPort = await freePortEverywhere();
    while (rconPort === gamePort);
    fake = await startFakeDigitalOcean({ machines, dataDir: join(work, 'cloud', 'snapshots'), ipBase: block.ipBase });
    // Named as the server's own in this installation (controller/installation-id.ts), as `ood image build` names it.
    mkdirSync(join(work, 'data'), { recursive: true });
    writeFileSync(join(work, 'data', 'installation-id'), 'b007b007\n');
    fake.addSnapshot({ name: `ood-b007b007-world-${Math.floor(Date.now() / 1000) - 86_400}`, archive, sizeGigabytes: bytes / 1e9 });
  }, PLAYBOOK_TIMEOUT_MS + 10 * 60_000);

  it('runs a session on it through the DigitalOcean driver: start, join, change, stop into a snapshot, start again with the change', async () => {
    expect(fake, 'the image was not built').toBeDefined();
    const pulumi = await realPulumiForOod({ dir: work, fake: fake!, passphrase: 'ood-test-passphrase' });
    const configPath = writeConfig(work, pulumi.command, { port: gamePort, rconPort });
    controller = await startControllerProcess(configPath, pulumi.env);
    const droplets = () => [...fake!.state.droplets.values()].filter((d) => d.status !== 'archive');
    const listed = () => [...fake!.state.snapshots.values()].filter((s) => s.listedAt <= Date.now()).map((s) => s.name).sort();
    onTestFailed(() => {
      console.log(`The controller said:\n${controller?.output().slice(-8000)}`);
      for (const d of droplets()) {
        for (const log of ['init.log', 'sshd.log', 'supervisord.out']) console.log(`${log} of droplet ${d.id}:\n${tail(join(machines!.paths(d.id).log, log))}`);
        console.log(`minecraft.log of droplet ${d.id}:\n${tail(join(machines!.paths(d.id).disk, 'var', 'log', 'supervisor', 'minecraft.log'))}`);
      }
      console.log('Actions that errored:', [...fake!.state.actions.values()].filter((a) => a.error), fake!.backgroundErrors);
    });
    const api = apiFor(controller.url);
    const base = listed();

    let started = Date.now();
    expect((await api.start()).status).toBe(202);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 180_000, 250);
    console.log(`image boot: start to running (first boot) ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const [droplet] = droplets();
    expect(droplet!.ipv4).toMatch(new RegExp(`^${block!.ipBase.replaceAll('.', '\\.')}\\.\\d+$`));
    // The game runs from the built root, as the role's minecraft user.
    const props = readFileSync(join(machines!.paths(droplet!.id).minecraft, 'server.properties'), 'utf8');
    expect(props).toMatch(/^enable-rcon=true$/m);

    const ann = await joinBot(gamePort, 'ann', droplet!.ipv4);
    // Counted over RCON, through the SSH tunnel into the droplet.
    await waitUntil('the API to count ann', async () => (await api.server()).players.names.includes('ann'), 30_000, 250);
    ann.chat(`/setblock ${MARK.x} ${MARK.y} ${MARK.z} diamond_block`);
    await waitUntil('the block to appear', () => ann.blockAt(MARK)?.name === 'diamond_block', 10_000);
    await leave(ann);

    started = Date.now();
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 300_000, 250);
    console.log(`image boot: stop to archived ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(droplets()).toEqual([]);
    const first = listed().find((name) => !base.includes(name));
    expect(first).toMatch(/^ood-b007b007-world-\d{10}$/);
    expect((await api.server()).lastError).toBeNull();
    // The stop went the driver's way: saved over RCON through the tunnel, then supervisorctl stop.
    const details = (await api.journal()).map((entry) => entry.detail ?? '');
    expect(details).toContain('Saved the world over RCON; stopped the game (supervisorctl stop minecraft)');

    started = Date.now();
    expect((await api.start()).status).toBe(202);
    await waitUntil('running again', async () => (await api.server()).phase === 'running', 180_000, 250);
    console.log(`image boot: start from the session snapshot ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const [second] = droplets();
    expect(second!.image).toMatchObject({ kind: 'snapshot', snapshot: { name: first } });
    const bob = await joinBot(gamePort, 'bob', second!.ipv4);
    await waitUntil('bob to load the block', () => bob.blockAt(MARK) !== null, 20_000);
    expect(bob.blockAt(MARK)?.name).toBe('diamond_block');
    await leave(bob);
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived again', async () => (await api.server()).phase === 'archived', 300_000, 250);
    expect(droplets()).toEqual([]);
  }, 20 * 60_000);

  it('left no droplet process and no mount behind', async () => {
    await controller?.stop();
    await machines?.close();
    expect(processesRootedIn(work)).toEqual([]);
    expect(mountsUnder(work)).toEqual([]);
  });
});

function writeConfig(dir: string, pulumiCommand: string, game: { port: number; rconPort: number }): string {
  const config = {
    dataDir: './data',
    listen: { host: '127.0.0.1', port: 0 },
    log: { level: process.env.OOD_TEST_LOG ?? 'info' },
    reconcile: { fastTick: '100ms', slowTick: '1s', playerProbe: '500ms', backoff: '300ms', maxBackoff: '2s' },
    pulumi: { command: pulumiCommand },
    servers: [
      {
        id: 'world',
        driver: 'digitalocean',
        digitalocean: { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'] },
        idle: { emptyAfter: '1h', neverJoined: '1h', warnings: ['1s'] },
        deadlines: { booting: '2m', stopping: '1m', poweringOff: '1m' },
        game,
      },
    ],
  };
  const path = join(dir, 'ood.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

function tail(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').slice(-3000) : `(no ${path})`;
}
