import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from './fake-do/server.js';
import { cachedDebianRoot, debianRoot } from './helpers/debian-root.js';
import { claimLoopbackBlock, type LoopbackBlock } from './helpers/loopback-block.js';
import { realPulumiForOod } from './helpers/real-pulumi.js';
import { ood } from './helpers/ood-cli.js';
import { readmeCommands } from './helpers/readme.js';
import { LoopbackMachines } from './loopback-droplet/loopback-machines.js';
import { bundledGameInRoot, ROOTFS_PACKAGES } from './loopback-droplet/rootfs-game.js';

/**
 * `ood image build` against the fake DigitalOcean API, with `ansible-playbook` really run over SSH on
 * the builder: a rootfs loopback droplet, a whole Debian root with its own sshd (so the play installs
 * Java and the rest into that root, never onto this machine).
 */
describe('ood image build', () => {
  const work = mkdtempSync(join(tmpdir(), 'ood-image-build-'));
  const game = bundledGameInRoot();
  let fake: FakeDo;
  let machines: LoopbackMachines;
  let block: LoopbackBlock | undefined;
  let env: Record<string, string>;
  let config: string;
  let vars: string[];
  let mojang: Server;
  let manifestUrl = '';
  const mojangRequests: string[] = [];
  beforeAll(async () => {
    // The builder's root is unpacked while the provider waits for its create (about a minute at this
    // test's provider time scale): on a fresh machine debootstrap must not run inside that wait.
    await cachedDebianRoot({ include: [...ROOTFS_PACKAGES] });
    machines = new LoopbackMachines({
      baseDir: join(work, 'cloud'),
      rootfs: {
        // A stock Debian image as DigitalOcean boots it: sshd and supervisor in, and Debian's guard
        // that keeps package scripts from starting daemons (this "droplet" shares the host's network).
        distribution: async () => {
          const root = await debianRoot({ include: [...ROOTFS_PACKAGES] });
          writeFileSync(join(root, 'usr', 'sbin', 'policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
          return root;
        },
        binds: game.binds,
      },
    });
    mkdirSync(join(work, 'snapshots'));
    // The builder's sshd binds a loopback block no other process here uses (a second test run cannot collide).
    block = await claimLoopbackBlock();
    fake = await startFakeDigitalOcean({ machines, dataDir: join(work, 'snapshots'), ipBase: block.ipBase });
    config = join(work, 'ood.yaml');
    const pulumi = await realPulumiForOod({ dir: work, fake, passphrase: 'image-build-test' });
    writeFileSync(config, stringify({ dataDir: './data', pulumi: { command: pulumi.command }, servers: [{ id: 'survival', driver: 'digitalocean', digitalocean: { sshSources: ['127.0.0.0/8'] } }] }));
    env = pulumi.env;
    const jar = join(work, 'server.jar');
    writeFileSync(jar, 'not a real server jar: the bundled game stands in\n');
    const sha = createHash('sha256').update(readFileSync(jar)).digest('hex');
    // No service manager in a loopback droplet; the game command is the bundled server lent to the root.
    vars = ['--jar', jar, '--var', `minecraft_server_sha256=${sha}`, '--var', 'minecraft_manage_services=false', '--var', `minecraft_command=${game.command.join(' ')}`];
    // Mojang's version manifest and the jar, of the documented shapes, on 127.0.0.1: the builder (a
    // loopback droplet on this machine's network) reads them as a real builder reads piston-meta.
    const jarBytes = readFileSync(jar);
    const jarSha1 = createHash('sha1').update(jarBytes).digest('hex');
    mojang = createServer((req, res) => {
      mojangRequests.push(req.url ?? '');
      const base = `http://127.0.0.1:${(mojang.address() as AddressInfo).port}`;
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/mc/game/version_manifest_v2.json') {
        return json({ latest: { release: '1.21.4', snapshot: '1.21.4' }, versions: [{ id: '1.21.4', type: 'release', url: `${base}/v1/packages/${'1'.repeat(40)}/1.21.4.json`, time: '2024-12-03T10:24:48+00:00', releaseTime: '2024-12-03T10:12:57+00:00', sha1: '1'.repeat(40), complianceLevel: 1 }] });
      }
      if (req.url?.endsWith('/1.21.4.json')) return json({ id: '1.21.4', downloads: { server: { sha1: jarSha1, size: jarBytes.length, url: `${base}/v1/objects/${jarSha1}/server.jar` } } });
      if (req.url === `/v1/objects/${jarSha1}/server.jar`) return res.writeHead(200).end(jarBytes);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => mojang.listen(0, '127.0.0.1', resolve));
    manifestUrl = `http://127.0.0.1:${(mojang.address() as AddressInfo).port}/mc/game/version_manifest_v2.json`;
  }, 15 * 60_000);
  afterAll(async () => {
    await new Promise((resolve) => mojang?.close(resolve));
    await fake?.close();
    await machines?.close();
    block?.release();
    rmSync(work, { recursive: true, force: true });
  });

  const droplets = () => [...fake.state.droplets.values()];
  const snapshots = () => [...fake.state.snapshots.values()].map((s) => s.name);

  it('fails a play clearly, says where the log is, and leaves no builder behind', async () => {
    const res = await ood(['image', 'build', '--config', config, ...vars, '--accept-eula', '--var', 'minecraft_java_package=ood-no-such-package'], { env, timeoutMs: 15 * 60_000 });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Image build for survival failed: The playbook failed after \d+ s: task ".*" failed\. The whole log is in .*image-builds\/\d+\.log/);
    expect(res.stdout).toMatch(/Removing the builder droplet after the failure/);
    expect(droplets()).toEqual([]);
    expect(snapshots()).toEqual([]);
  }, 15 * 60_000);

  it("builds the image with README's command: the jar from Mojang's manifest, progress, the snapshot listed, the builder removed", async () => {
    const [command, ...rest] = readmeCommands('# the base image: server.jar of Minecraft');
    expect(rest).toEqual([]);
    const args = command!.split(' ');
    expect(args.slice(0, 4)).toEqual(['npx', 'ood', 'image', 'build']);
    const started = performance.now();
    // README's command as written, with this test's config, the manifest's address and what a loopback droplet needs.
    const res = await ood([...args.slice(2), '--config', config, '--var', `minecraft_version_manifest_url=${manifestUrl}`, ...vars.slice(4)], { env, timeoutMs: 20 * 60_000 });
    const seconds = Math.round((performance.now() - started) / 1000);
    expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
    process.stderr.write(`ood image build against the fake took ${seconds} s\n`);
    expect(res.stdout).toMatch(new RegExp(`Builder droplet \\d+ is at ${block!.ipBase.replaceAll('.', '\\.')}\\.\\d+; waiting for SSH`));
    // Live progress: task name, n of m, elapsed.
    const progress = res.stdout.split('\n').filter((l) => /^ {2}\[\d+\/\d+\] .+ \(\d+ s\)$/.test(l));
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.some((l) => /Install Java|java/i.test(l))).toBe(true);
    expect(progress.some((l) => /Read Mojang's version manifest/.test(l))).toBe(true);
    expect(mojangRequests).toEqual(expect.arrayContaining(['/mc/game/version_manifest_v2.json', expect.stringMatching(/\/1\.21\.4\.json$/), expect.stringMatching(/\/server\.jar$/)]));
    // A build's name never makes it a start image: the first build of a server is recorded as one.
    expect(res.stdout).toMatch(/Snapshot ood-(.+-)?image-\d+ \(id \d+, [\d.]+ GB\) is listed: survival's next start boots it/);
    expect(snapshots()).toEqual([expect.stringMatching(/^ood-(.+-)?image-\d{10}$/)]);
    expect(JSON.parse(readFileSync(join(work, 'data', 'servers', 'survival', 'start-image.json'), 'utf8'))).toMatchObject({ name: snapshots()[0] });
    expect(existsSync(join(work, 'data', 'image-builds', 'running', 'survival.json'))).toBe(false);
    expect(droplets()).toEqual([]);
  }, 20 * 60_000);
});
