import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { readmeCommands, REPO_ROOT } from './helpers/readme.js';

const run = promisify(execFile);
const MARKER = 'The DigitalOcean path, start to finish';

/**
 * README's DigitalOcean path, command by command, as a user with a fresh account types it, in a shell
 * in the repository, with the fake API standing in for DigitalOcean. What only a real account can do
 * (the console, Pulumi's installer) is prose there, not a command. One command cannot finish here:
 * `ood image build --minecraft-version` has its builder fetch server.jar from Mojang, and tests reach
 * nothing off this machine. It runs as written up to the builder's create, which the fake refuses as a
 * region without capacity does (one of README's "when something fails"); the base image it would have
 * made is the world's seeded one, and test/image-build.test.ts runs a whole build (with `--jar`).
 */
describe("README's DigitalOcean path", () => {
  let world: DoWorld;
  let serve: ChildProcess | undefined;
  let serveOutput = '';
  beforeAll(async () => {
    world = await makeDoWorld({ server: { idle: { emptyAfter: '1h', neverJoined: '1h', warnings: ['1s'] } } });
  });
  afterAll(async () => {
    if (serve?.pid !== undefined) {
      // `npm start` runs OoD as npm's child, in the process group this test made for it: the whole group
      // is told to stop (npm alone once exited and left OoD running), then killed if it lingers.
      const group = -serve.pid;
      const signal = (name: NodeJS.Signals | 0): boolean => {
        try {
          process.kill(group, name);
          return true;
        } catch {
          return false; // the group is gone
        }
      };
      const exited = serve.exitCode === null ? new Promise((resolve) => serve!.once('exit', resolve)) : Promise.resolve();
      signal('SIGTERM');
      await exited;
      for (let i = 0; i < 100 && signal(0); i++) await sleep(100);
      signal('SIGKILL');
    }
    await world?.cleanup();
  });

  it('runs every command of the block in order: token, CLI, config, image, start, status, stop, cost', async () => {
    onTestFailed(() => console.log(`npm start said:\n${serveOutput.slice(-6000)}`));
    const commands = readmeCommands(MARKER);
    // As the user's shell has it: the CLI, the plugin and the fake's address; the token comes from README's export.
    const env: Record<string, string> = {
      PATH: world.env.PATH!,
      HOME: process.env.HOME ?? '/root',
      PULUMI_HOME: world.env.PULUMI_HOME!,
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      DIGITALOCEAN_API_URL: world.env.DIGITALOCEAN_API_URL!,
      OOD_DO_PROVIDER_TIME_SCALE: world.env.OOD_DO_PROVIDER_TIME_SCALE!,
      // The user's ood.yaml, found from the repository as README's `npx ood` finds it.
      OOD_CONFIG: world.configPath,
    };
    const droplets = () => [...world.fake.state.droplets.values()].filter((d) => d.status !== 'archive');
    const snapshots = () => [...world.fake.state.snapshots.values()].map((s) => s.name);
    const ran: string[] = [];
    for (const command of commands) {
      // README's server is `survival`; the world's is `world`.
      const line = command.replaceAll('survival', 'world');
      const word = line.split(/\s+/).slice(0, line.startsWith('npx ood') ? 3 : 2).join(' ');
      ran.push(word);
      if (word === 'export DIGITALOCEAN_TOKEN=dop_v1_…') {
        env.DIGITALOCEAN_TOKEN = world.fake.token;
      } else if (word === 'pulumi version') {
        expect((await sh(line, env)).stdout).toMatch(/^v3\.\d+\.\d+/);
      } else if (word === 'npx ood config') {
        const res = await sh(line, env);
        expect(res.stdout).toMatch(/world: digitalocean driver/);
      } else if (word === 'npx ood image') {
        const before = snapshots();
        world.fake.faults.failDropletCreates(1, 'rejected');
        const res = await sh(line, env, true);
        world.fake.faults.reset();
        expect(res.code, res.out).not.toBe(0);
        expect(res.out).toMatch(/Image build for world failed/);
        expect(res.out).toMatch(/422/);
        expect(droplets()).toEqual([]);
        expect(snapshots()).toEqual(before);
      } else if (word === 'npm start') {
        serve = spawn('bash', ['-c', `exec ${line}`], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        serve.stdout!.on('data', (d: Buffer) => (serveOutput += d.toString()));
        serve.stderr!.on('data', (d: Buffer) => (serveOutput += d.toString()));
        const deadline = Date.now() + 60_000;
        while (!/OoD listening on/.test(serveOutput) && serve.exitCode === null && Date.now() < deadline) await sleep(100);
        expect(serveOutput).toMatch(/OoD listening on/);
      } else if (word === 'npx ood start') {
        await sh(line, env);
        expect(droplets()).toHaveLength(1);
        expect(droplets()[0]!.tags).toContain('ood-world');
      } else if (word === 'npx ood status') {
        const res = await sh(line, env);
        expect(res.stdout).toMatch(new RegExp(`world\\s+running\\s+up\\b.*${droplets()[0]!.ipv4.replaceAll('.', '\\.')}:${world.gamePort}`));
      } else if (word === 'npx ood stop') {
        const before = snapshots();
        await sh(line, env);
        expect(droplets()).toEqual([]);
        expect(snapshots().filter((name) => !before.includes(name))).toEqual([expect.stringMatching(new RegExp(`^ood-${world.installation}-world-\\d{10}$`))]);
      } else if (word === 'npx ood cost') {
        expect((await sh(line, env)).stdout).toMatch(/\$\d+\.\d{2}/);
      } else {
        throw new Error(`README's "${MARKER}" block has a command this test does not run: ${command}. Teach the test what it should do, or make it prose.`);
      }
    }
    expect(ran).toEqual(['export DIGITALOCEAN_TOKEN=dop_v1_…', 'pulumi version', 'npx ood config', 'npx ood image', 'npm start', 'npx ood start', 'npx ood status', 'npx ood stop', 'npx ood cost']);
  }, 900_000);
});

/** One README line in bash, from the repository root; it must succeed unless `mayFail`. */
async function sh(line: string, env: Record<string, string>, mayFail = false): Promise<{ code: number; stdout: string; out: string }> {
  const res = await run('bash', ['-c', line], { cwd: REPO_ROOT, env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, out: ok.stdout + ok.stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? '', out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  if (!mayFail) expect(res.code, `${line}\n${res.out.slice(-4000)}`).toBe(0);
  return res;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
