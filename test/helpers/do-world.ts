import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startFakeDigitalOcean, type FakeDo, type FakeDoOptions } from '../fake-do/server.js';
import { claimLoopbackBlock, freePortEverywhere, type LoopbackBlock } from './loopback-block.js';
import { LoopbackMachines } from '../loopback-droplet/loopback-machines.js';
import { realPulumiBinDir, realPulumiEnv } from './real-pulumi.js';

/**
 * How fast OoD's provider plugin runs its waits (the real provider waits 10 s before polling a new
 * droplet, polls every 3 s, and waits 10 s around a delete): a tenth, so a cycle takes seconds.
 */
const PROVIDER_TIME_SCALE = 0.1;

export interface DoWorld {
  dir: string;
  configPath: string;
  dataDir: string;
  /** The installation id written into the data dir (controller/installation-id.ts): the base image is named with it. */
  installation: string;
  fake: FakeDo;
  machines: LoopbackMachines;
  /** `127.A.B`, a block claimed for this world alone: its droplets get `127.A.B.N`. */
  ipBase: string;
  /** The server's `game.port`, a port free on this machine when the world was made (never 25565). */
  gamePort: number;
  /** The server's `game.rconPort`, free likewise (never 25575). */
  rconPort: number;
  /** What the controller needs in its environment: the fake API, the real `pulumi` CLI and OoD's provider plugin. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * A DigitalOcean account on this machine: the fake API, loopback droplets behind it, a base image
 * snapshot `ood-<ts>` (a disk with /srv/minecraft for OoD's bundled game), and an `ood.yaml` with one
 * server `world` on the digitalocean driver whose stacks run through the real `pulumi` CLI (built from
 * its Go module by test/pulumi/build.sh) with OoD's provider plugin (test/pulumi/provider/).
 */
export async function makeDoWorld(options: DoWorldOptions = {}): Promise<DoWorld> {
  // Droplets bind sshd and the game on their own addresses: a block no other process (a second test
  // run, an OoD running here) uses, and ports the OS says are free, so nothing on this machine can
  // hold what a droplet needs.
  // An explicit ipBase is the caller's promise that no one else uses it (tests written before claims).
  const given = options.fake?.ipBase;
  const block: LoopbackBlock = given ? { ipBase: given, release: () => undefined } : await claimLoopbackBlock();
  try {
    return await makeDoWorldIn(block, options);
  } catch (err) {
    block.release();
    throw err;
  }
}

export interface DoWorldOptions {
  server?: Record<string, unknown>;
  /** The fake's options. Leave `ipBase` out: the world then claims a block of its own (test/helpers/loopback-block.ts). */
  fake?: FakeDoOptions;
  baseImage?: boolean;
  installation?: string;
}

async function makeDoWorldIn(block: LoopbackBlock, options: DoWorldOptions): Promise<DoWorld> {
  const gamePort = await freePortEverywhere();
  let rconPort = await freePortEverywhere();
  while (rconPort === gamePort) rconPort = await freePortEverywhere();
  const dir = mkdtempSync(join(tmpdir(), 'ood-do-'));
  // An installation of its own, as `ood serve` makes on first start; the base image is named with it.
  const installation = options.installation ?? randomBytes(4).toString('hex');
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'data', 'installation-id'), `${installation}\n`);
  const binDir = await realPulumiBinDir();
  // A droplet boots in about a second alone; on a loaded 2-core CI machine sshd once took over 30 s.
  const machines = new LoopbackMachines({ baseDir: join(dir, 'cloud'), bootTimeoutMs: 120_000 });
  mkdirSync(join(dir, 'cloud', 'snapshots'), { recursive: true });
  const fake = await startFakeDigitalOcean({ machines, dataDir: join(dir, 'cloud', 'snapshots'), ...options.fake, ipBase: block.ipBase });
  if (options.baseImage ?? true) {
    // What `ood image build` leaves behind: a disk with the game's directory, RCON off until OoD sets it.
    const disk = join(dir, 'base-disk');
    mkdirSync(join(disk, 'srv', 'minecraft'), { recursive: true });
    writeFileSync(join(disk, 'srv', 'minecraft', 'server.properties'), 'online-mode=false\nmotd=OoD on a droplet\nood-test-everybody-op=true\nenable-rcon=false\n');
    const archive = join(dir, 'base.tar.gz');
    execFileSync('tar', ['--create', '--gzip', '--file', archive, '--directory', disk, '.']);
    // Named as the server's own (installation and server id): proven, so the first start boots it.
    fake.addSnapshot({ name: `ood-${installation}-world-${Math.floor(Date.now() / 1000) - 86_400}`, archive, sizeGigabytes: 1 });
  }
  const config = {
    dataDir: './data',
    listen: { host: '127.0.0.1', port: 0 },
    log: { level: process.env.OOD_TEST_LOG ?? 'info' },
    reconcile: { fastTick: '100ms', slowTick: '1s', playerProbe: '500ms', backoff: '300ms', maxBackoff: '2s' },
    pulumi: { command: join(binDir, 'pulumi') },
    servers: [
      {
        id: 'world',
        driver: 'digitalocean',
        digitalocean: { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'] },
        idle: { emptyAfter: '1h', neverJoined: '1h', warnings: ['1s'] },
        deadlines: { booting: '90s', stopping: '30s', poweringOff: '20s' },
        ...options.server,
        game: { ...(options.server?.game as Record<string, unknown> | undefined), port: gamePort, rconPort },
      },
    ],
  };
  const configPath = join(dir, 'ood.yaml');
  writeFileSync(configPath, stringify(config));
  return {
    dir,
    configPath,
    dataDir: join(dir, 'data'),
    installation,
    fake,
    machines,
    ipBase: block.ipBase,
    gamePort,
    rconPort,
    env: realPulumiEnv({ binDir, pulumiHome: join(dir, 'pulumi-home'), doToken: fake.token, doApiUrl: fake.url, passphrase: 'ood-test-passphrase', providerTimeScale: PROVIDER_TIME_SCALE }),
    cleanup: async () => {
      await fake.close();
      await machines.close();
      rmSync(dir, { recursive: true, force: true });
      block.release();
    },
  };
}
