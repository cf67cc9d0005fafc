import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { watchCommandLines } from './helpers/cmdline-watch.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { readmeCommands, REPO_ROOT } from './helpers/readme.js';
import { waitUntil } from './helpers/wait.js';

const MARK = new Vec3(2, 6, 2);

/**
 * The whole life cycle on `driver: digitalocean`, with only DigitalOcean replaced: the fake API
 * (checked against DigitalOcean's OpenAPI description) and loopback droplets with real sshd and
 * supervisord; the real `pulumi` CLI runs OoD's inline program through the Automation API, with OoD's
 * provider plugin in place of the DigitalOcean provider.
 */
describe('a droplet per session', () => {
  let world: DoWorld;
  let controller: ControllerProcess;
  beforeAll(async () => {
    // keepSnapshots 2 stated: unset it is 1 while backups are on (the default on DigitalOcean).
    world = await makeDoWorld({ server: { idle: { emptyAfter: '3s', neverJoined: '1h', warnings: ['1s'] }, digitalocean: { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'], keepSnapshots: 2 } } });
    // As for a user who set no passphrase: OoD makes <dataDir>/pulumi-passphrase, which README's commands read.
    const env = { ...world.env };
    delete env.PULUMI_CONFIG_PASSPHRASE;
    controller = await startControllerProcess(world.configPath, env);
  });
  afterAll(async () => {
    await controller?.stop();
    await world?.cleanup();
  });

  const droplets = () => [...world.fake.state.droplets.values()].filter((d) => d.status !== 'archive');
  const listed = () => [...world.fake.state.snapshots.values()].filter((s) => s.listedAt <= Date.now()).map((s) => s.name).sort();

  it('starts from the snapshot, idles out into a new snapshot, and starts again from it with the change', async () => {
    onTestFailed(() => {
      console.log(`The controller said:\n${controller.output().slice(-8000)}`);
      console.log('Actions that errored:', [...world.fake.state.actions.values()].filter((a) => a.error), world.fake.backgroundErrors);
    });
    const api = apiFor(controller.url);
    // Every process of the cycle (controller, Pulumi worker, CLI, provider plugin, ssh): none may carry
    // the token on its command line, where `ps` shows it to every user of the machine.
    const commandLines = watchCommandLines([world.fake.token]);
    const base = listed();
    expect((await api.start()).status).toBe(202);
    const running = await waitUntil('running', async () => (await api.server()).phase === 'running' && api.server(), 120_000);
    const [droplet] = droplets();
    expect(droplet).toBeDefined();
    expect(droplet!.tags).toEqual(expect.arrayContaining(['ood', 'ood-world']));
    expect(running.address).toBe(`${droplet!.ipv4}:${world.gamePort}`);

    const bot = await joinBot(world.gamePort, 'ann', droplet!.ipv4);
    // Counted over RCON, through the SSH tunnel to the droplet's own address.
    await waitUntil('the API to count ann', async () => (await api.server()).players.names.includes('ann'), 20_000);
    bot.chat(`/setblock ${MARK.x} ${MARK.y} ${MARK.z} gold_block`);
    await waitUntil('the block to appear', () => bot.blockAt(MARK)?.name === 'gold_block', 10_000);
    await leave(bot);

    await waitUntil('the idle stop', async () => (await api.server()).desired === 'down', 30_000);
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 180_000);
    expect(droplets()).toEqual([]);
    const afterFirst = listed();
    expect(afterFirst).toHaveLength(2);
    const first = afterFirst.find((n) => !base.includes(n));
    expect(first).toMatch(/^ood-[0-9a-f]{8}-world-\d{10}$/);
    expect((await api.server()).lastError).toBeNull();

    // Every start and stop is an update in the stack's history, with who and why.
    // The API waits 2 s at most for Pulumi to read the stack; it says `stackLoading` until the read is done.
    const history = await waitUntil('the stack history', async () => {
      const body = (await api.call('GET', '/api/servers/world/history')).body as { stack: { kind: string; result: string; message: string }[]; stackLoading: boolean };
      return !body.stackLoading && body;
    }, 60_000, 500);
    // Newest first, as `pulumi stack history` lists them.
    expect(history.stack.map((u) => [u.kind, u.result, u.message])).toEqual([
      ['destroy', 'succeeded', 'ood: idle 3s'],
      ['update', 'succeeded', 'ood: start by admin-token'],
    ]);
    await operatorReadsHistory();
    expect(commandLines.stop()).toEqual([]);

    // Again, from the snapshot just taken: the block is there.
    expect((await api.start()).status).toBe(202);
    await waitUntil('running again', async () => (await api.server()).phase === 'running', 120_000);
    const [second] = droplets();
    expect(second!.image).toMatchObject({ kind: 'snapshot', snapshot: { name: first } });
    const bob = await joinBot(world.gamePort, 'bob', second!.ipv4);
    await waitUntil('bob to load the block', () => bob.blockAt(MARK) !== null, 20_000);
    expect(bob.blockAt(MARK)?.name).toBe('gold_block');
    await leave(bob);
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived again', async () => (await api.server()).phase === 'archived', 180_000);
    expect(droplets()).toEqual([]);
    // keepSnapshots 2: the base image is pruned, the two session snapshots stay.
    const afterSecond = listed();
    expect(afterSecond).toHaveLength(2);
    expect(afterSecond).toContain(first);
    expect(afterSecond).not.toContain(base[0]);

    // Secrets never reach the log.
    expect(controller.output()).not.toContain(world.fake.token);
    expect(controller.output()).not.toMatch(/rcon\.password=/);
  }, 600_000);

  /**
   * README's `pulumi stack history` commands, run as an operator runs them (the data dir where README
   * says `.ood`, this test's server for `survival`), plain and with `--json`: the same messages.
   */
  async function operatorReadsHistory(): Promise<void> {
    const run = promisify(execFile);
    const { PATH, PULUMI_HOME } = world.env;
    const commands = readmeCommands('pulumi stack history');
    expect(commands).toHaveLength(2);
    for (const command of commands) {
      const line = command.replaceAll('$PWD/.ood', world.dataDir).replaceAll('.ood/', `${world.dataDir}/`).replaceAll('ood-survival', 'ood-world');
      const env = { PATH: PATH!, PULUMI_HOME: PULUMI_HOME!, PULUMI_SKIP_UPDATE_CHECK: 'true', HOME: process.env.HOME ?? '/root' };
      const plain = await run('bash', ['-c', line], { cwd: REPO_ROOT, env });
      expect(plain.stdout, line).toContain('ood: start by admin-token');
      expect(plain.stdout, line).toContain('ood: idle 3s');
      const json = JSON.parse((await run('bash', ['-c', `${line} --json`], { cwd: REPO_ROOT, env })).stdout) as { kind: string; result: string; message: string }[];
      expect(json.map((u) => [u.kind, u.result, u.message]), line).toEqual([
        ['destroy', 'succeeded', 'ood: idle 3s'],
        ['update', 'succeeded', 'ood: start by admin-token'],
      ]);
    }
  }
});
