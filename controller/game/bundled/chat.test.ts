import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rcon } from 'rcon-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from 'mineflayer';
import { joinBot, leave } from '../../../test/helpers/bot.js';
import { freePort } from '../../../test/helpers/ood-home.js';
import { waitUntil } from '../../../test/helpers/wait.js';
import { bundledGameCommand } from '../command.js';

/** Everything `bot` reads in chat, as the player's screen shows it (prismarine-chat's plain text). */
function heardBy(bot: Bot): string[] {
  const lines: string[] = [];
  bot.on('messagestr', (text) => void lines.push(text));
  return lines;
}

/** The chat components `bot` received, as JSON. */
function componentsHeardBy(bot: Bot): string[] {
  const components: string[] = [];
  bot.on('message', (message) => void components.push(JSON.stringify(message.json)));
  return components;
}

describe('chat from the bundled game', () => {
  let dir: string;
  let child: ChildProcess;
  let exited: Promise<unknown>;
  let port: number;
  let rconPort: number;
  /** What the game printed (stdout and stderr): its console log. */
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-chat-'));
    port = await freePort();
    rconPort = await freePort();
    const props = [`server-port=${port}`, 'online-mode=false', 'enable-rcon=true', `rcon.port=${rconPort}`, 'rcon.password=test'];
    writeFileSync(join(dir, 'server.properties'), `${props.join('\n')}\n`);
    const [command, ...args] = bundledGameCommand();
    child = spawn(command!, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitUntil('the game to start', () => output.includes('Done ('), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; it said: ${output.slice(-500)}`);
    });
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows joins and leaves in colour, with no raw colour codes, and says what RCON said literally', async () => {
    const watcher = await joinBot(port, 'Watcher');
    const heard = heardBy(watcher);
    const components = componentsHeardBy(watcher);
    const alex = await joinBot(port, 'Alex');
    await waitUntil('Watcher to hear Alex join', () => heard.some((line) => line.includes('Alex joined the game')), 10_000).catch((err: Error) => {
      throw new Error(`${err.message}; Watcher heard ${JSON.stringify(heard)}`);
    });
    // A player's words are plain text too.
    alex.chat('fish &c chips');
    await waitUntil('Watcher to hear Alex', () => heard.some((line) => line.includes('fish')), 10_000);
    await leave(alex);
    await waitUntil('Watcher to hear Alex leave', () => heard.some((line) => line.includes('Alex left the game')), 10_000);

    // A message from outside (OoD's warnings) is plain text: its & stays an &.
    const rcon = await Rcon.connect({ host: '127.0.0.1', port: rconPort, password: 'test' });
    await rcon.send('say Fish &chips & more');
    await rcon.end();
    await waitUntil('Watcher to hear the say', () => heard.some((line) => line.includes('[Server]')), 10_000);
    await leave(watcher);

    expect(heard, JSON.stringify(heard)).toContain('Alex joined the game.');
    expect(heard).toContain('Alex left the game.');
    expect(heard, JSON.stringify(heard)).toContain('[Server] Fish &chips & more');
    expect(heard).toContain('<Alex> fish &c chips');
    expect(heard.join('\n')).not.toMatch(/&e/);
    // Yellow, as vanilla shows joins: the code became the component's colour, not text.
    expect(components.find((c) => c.includes('Alex joined'))).toMatch(/"color":"yellow"/);

    // Its console prints what vanilla prints, for OoD's console (issue 21).
    const stamp = String.raw`\[\d\d:\d\d:\d\d\] \[Server thread/INFO\]: `;
    await waitUntil('the game to print Watcher leaving', () => output.includes('Watcher left the game'), 10_000);
    expect(output).toMatch(new RegExp(`^${stamp}Alex joined the game$`, 'm'));
    expect(output).toMatch(new RegExp(`^${stamp}<Alex> fish &c chips$`, 'm'));
    expect(output).toMatch(new RegExp(`^${stamp}Alex left the game$`, 'm'));
    expect(output).toMatch(new RegExp(`^${stamp}\\[Server\\] Fish &chips & more$`, 'm'));
  });
});
