import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mineflayer from 'mineflayer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinBot, leave } from '../../../test/helpers/bot.js';
import { freePort } from '../../../test/helpers/ood-home.js';
import { joinTransferred } from '../../../test/helpers/transfer-client.js';
import { waitUntil } from '../../../test/helpers/wait.js';
import { bundledGameCommand } from '../command.js';
import { TRANSFERS_DISABLED } from './transfers.js';

interface Game {
  port: number;
  child: ChildProcess;
  exited: Promise<unknown>;
  dir: string;
}

/** The bundled game in a directory of its own, with `extra` lines in its server.properties. */
async function startGame(extra: string[]): Promise<Game> {
  const dir = mkdtempSync(join(tmpdir(), 'ood-transfer-'));
  const port = await freePort();
  writeFileSync(join(dir, 'server.properties'), [`server-port=${port}`, 'online-mode=false', ...extra, ''].join('\n'));
  const [command, ...args] = bundledGameCommand();
  const child = spawn(command!, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitUntil('the game to start', () => output.includes('Done ('), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; it said: ${output.slice(-500)}`);
  });
  return { port, child, exited, dir };
}

async function stopGame(game: Game | undefined): Promise<void> {
  if (!game) return;
  if (game.child.exitCode === null && game.child.signalCode === null) game.child.kill('SIGKILL');
  await game.exited;
  rmSync(game.dir, { recursive: true, force: true });
}

/*
 * A client sent by a Transfer packet (OoD's waiting room) opens with handshake intent 3; the bundled
 * game takes it as a login only with vanilla's `accepts-transfers=true`.
 */
describe('the bundled game and transferred players', () => {
  let accepting: Game | undefined;
  let refusing: Game | undefined;
  let older: Game | undefined;

  beforeAll(async () => {
    [accepting, refusing, older] = await Promise.all([
      startGame(['accepts-transfers=true']),
      startGame([]),
      startGame(['accepts-transfers=true', 'ood-test-version=1.20.4']),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([stopGame(accepting), stopGame(refusing), stopGame(older)]);
  });

  it('with accepts-transfers=true, logs a transferred player in, who plays (chat heard by another player)', async () => {
    const joined = await joinTransferred(accepting!.port, 'Moved');
    if (!('bot' in joined)) throw new Error(`The transferred player was kicked: ${joined.kicked}`);
    const moved = joined.bot;
    const watcher = await joinBot(accepting!.port, 'Watcher');
    const heard: string[] = [];
    watcher.on('messagestr', (text) => void heard.push(text));
    moved.chat('here by transfer');
    await waitUntil('Watcher to hear the transferred player', () => heard.includes('<Moved> here by transfer'), 10_000).catch((err: Error) => {
      throw new Error(`${err.message}; Watcher heard ${JSON.stringify(heard)}`);
    });
    await leave(moved);
    await leave(watcher);
  }, 60_000);

  it('without accepts-transfers, refuses a transferred player with vanilla\'s words and still lets an ordinary join in', async () => {
    const joined = await joinTransferred(refusing!.port, 'Moved');
    expect(joined).toEqual({ kicked: TRANSFERS_DISABLED });
    const bot = await joinBot(refusing!.port, 'Direct');
    expect(bot.entity).toBeDefined();
    await leave(bot);
  }, 60_000);

  it('as a game older than 1.20.5 (protocol 765), where intent 3 does not exist, closes the connection as vanilla of then did', async () => {
    await expect(joinTransferred(older!.port, 'Moved', '127.0.0.1', 20_000, '1.20.4')).rejects.toThrow(/ended with no kick reason/);
    const bot = mineflayer.createBot({ host: '127.0.0.1', port: older!.port, username: 'Direct', version: '1.20.4', auth: 'offline', hideErrors: true });
    await new Promise<void>((resolve, reject) => {
      bot.once('spawn', () => resolve());
      bot.once('kicked', (reason) => reject(new Error(`Direct was kicked: ${JSON.stringify(reason)}`)));
      bot.once('error', reject);
    });
    await leave(bot);
  }, 60_000);
});
