import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import type { LogLine } from '../controller/logs/log-hub.js';
import { apiFor } from './helpers/api.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { serveInProcess } from './helpers/in-process.js';
import { waitUntil } from './helpers/wait.js';
import { connectSsh } from './loopback-droplet/ssh-test-client.js';

/**
 * The console's live log on a droplet (issue 21): supervisord's log of the game, followed over OoD's
 * SSH connection, through a rotation as supervisord makes one (rename, then reopen on SIGUSR2).
 */
describe('the game log of a droplet, followed over SSH', () => {
  let world: DoWorld;
  let serving: Serving;
  beforeAll(async () => {
    world = await makeDoWorld();
    serving = await serveInProcess(world.configPath, world.env);
  }, 120_000);
  afterAll(async () => {
    await serving?.close();
    await world?.cleanup();
  });

  it("streams the game's lines and keeps streaming after the log is rotated", async () => {
    const api = apiFor(serving.url);
    expect((await api.start()).status).toBe(202);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 180_000, 250);

    const seen: LogLine[] = [];
    const sub = serving.controller.logs('world').subscribe((lines) => seen.push(...lines));
    seen.push(...sub.backlog);
    onTestFailed(async () => {
      console.log(`The console showed:\n${seen.map((l) => `${l.kind} ${l.text}`).join('\n')}`);
      console.log(`The journal:\n${JSON.stringify((await api.call('GET', '/api/servers/world/journal')).body).slice(0, 6000)}`);
    });
    const texts = () => seen.map((l) => l.text);
    // The tail of the log: the game's start, written before anyone watched.
    await waitUntil("the game's start line", () => texts().some((t) => /^Done \(.*\)! Minecraft/.test(t)), 30_000);
    const who = { actor: 'admin', source: 'test' };
    await serving.controller.consoleCommand('world', 'say before the rotation', who);
    await waitUntil('the say line', () => texts().some((t) => t.endsWith('[Server] before the rotation')), 15_000);

    // As supervisord rotates: the file renamed away, then a new one opened at the path.
    const [droplet] = [...world.fake.state.droplets.values()];
    const log = join(world.machines.paths(droplet!.id).log, 'minecraft.log');
    const keys = join(world.dataDir, 'servers', 'world', 'ssh');
    const ssh = await connectSsh(droplet!.ipv4, { privateKey: readFileSync(join(keys, 'id_ed25519')) }, readFileSync(join(keys, 'host_ed25519.pub'), 'utf8'));
    try {
      const moved = await ssh.exec(`mv ${log} ${log}.1 && kill -USR2 "$(cat /run/supervisord.pid)"`);
      expect(moved.code, moved.stderr).toBe(0);
      await waitUntil('supervisord to reopen its log', () => existsSync(log), 10_000);
      await serving.controller.consoleCommand('world', 'say after the rotation', who);
      await waitUntil('the say line after the rotation', () => texts().some((t) => t.endsWith('[Server] after the rotation')), 15_000);
      // It really came from the new file; the old one ends before it.
      expect(readFileSync(log, 'utf8')).toContain('[Server] after the rotation');
      expect(readFileSync(`${log}.1`, 'utf8')).not.toContain('after the rotation');
      // One follower however many watch, and no tail left behind by the rotation.
      // `[-]F`: the pattern does not match the shell that runs pgrep.
      const tails = await ssh.exec(`pgrep -fc -- '[-]F -- ${log}' || true`);
      expect(tails.stdout.trim()).toBe('1');
    } finally {
      await ssh.end();
    }
    expect(texts().filter((t) => t.endsWith('[Server] before the rotation'))).toHaveLength(1);

    // A stop while the log channel is open on the same SSH connection: its execs still run, the game's
    // last words arrive, and the follow ends when the server is archived.
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 180_000, 250);
    expect(texts()).toContain('Stopping the server');
    expect(seen.some((l) => l.kind === 'ood' && l.text.startsWith('phase running → stopping: '))).toBe(true);
    await waitUntil('the follow to end', () => !serving.controller.logs('world').following, 5_000);
    sub.close();
  }, 400_000);
});
