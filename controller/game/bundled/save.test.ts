import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rcon } from 'rcon-client';
import { Vec3 } from 'vec3';
import { afterEach, describe, expect, it } from 'vitest';
import { joinBot, leave } from '../../../test/helpers/bot.js';
import { freePort } from '../../../test/helpers/ood-home.js';
import { waitUntil } from '../../../test/helpers/wait.js';
import { bundledGameCommand } from '../command.js';

interface Game {
  child: ChildProcess;
  exited: Promise<number | null>;
}

const games = new Set<Game>();

async function startGame(dir: string): Promise<Game> {
  const [command, ...args] = bundledGameCommand();
  const child = spawn(command!, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const game = { child, exited };
  games.add(game);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await waitUntil(`the game in ${dir} to start`, () => output.includes('Done ('), 30_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; it said: ${output.slice(-500)}`, { cause: err });
  }
  return game;
}

async function endGames(): Promise<void> {
  for (const game of games) {
    if (game.child.exitCode === null && game.child.signalCode === null) game.child.kill('SIGKILL');
    await game.exited;
  }
  games.clear();
}
afterEach(endGames);

/**
 * One block in each of 25 chunks. flying-squid spawns a player at x and z in 0..30 (chunk 0 or 1) and
 * sends at least the chunks from 3 before to 2 after the player's (flying-squid's
 * plugins/world.js:245-270), so both bots load them all.
 */
const MARKS: Vec3[] = [];
for (let cx = -2; cx <= 2; cx++) {
  for (let cz = -2; cz <= 2; cz++) MARKS.push(new Vec3(cx * 16 + 3, 9, cz * 16 + 3));
}

/**
 * Places the blocks right after joining a fresh world, leaves, stops the game as OoD's local driver
 * does and reads the blocks after a restart. The first autosave writes the newly generated chunks
 * while the blocks are placed; before the fix, a chunk changed during that write left the save queue
 * unsaved and was dropped from memory when the player left, so neither `save-all` nor `stop` saved
 * it. On that code about two rounds in three lost blocks, and this test failed 10 runs of 10.
 */
async function placeLeaveStopAndRead(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ood-save-'));
  try {
    const port = await freePort();
    const rconPort = await freePort();
    const props = [`server-port=${port}`, 'online-mode=false', 'ood-test-everybody-op=true', 'enable-rcon=true', `rcon.port=${rconPort}`, 'rcon.password=test'];
    writeFileSync(join(dir, 'server.properties'), `${props.join('\n')}\n`);
    const first = await startGame(dir);
    const ann = await joinBot(port, 'ann');
    for (const m of MARKS) {
      ann.chat(`/setblock ${m.x} ${m.y} ${m.z} gold_block`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitUntil('ann to see every block', () => MARKS.every((m) => ann.blockAt(m)?.name === 'gold_block'), 30_000);
    await leave(ann);

    // As OoD's local driver stops a game.
    const rcon = await Rcon.connect({ host: '127.0.0.1', port: rconPort, password: 'test', timeout: 20_000 });
    expect(await rcon.send('save-all flush')).toMatch(/Saved the game/);
    await rcon.send('stop');
    await rcon.end();
    expect(await first.exited).toBe(0);

    await startGame(dir);
    const bob = await joinBot(port, 'bob');
    await waitUntil('bob to load the chunks', () => MARKS.every((m) => bob.blockAt(m) !== null), 30_000);
    const lost = MARKS.filter((m) => bob.blockAt(m)?.name !== 'gold_block').map((m) => m.toString());
    await leave(bob);
    return lost;
  } finally {
    await endGames();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the test Minecraft server saves', () => {
  it('every block placed before the last player left and the game stopped', async () => {
    for (let round = 0; round < 2; round++) {
      expect(await placeLeaveStopAndRead(), `blocks lost in round ${round + 1}`).toEqual([]);
    }
  }, 60_000);
});

describe('the test Minecraft server on SIGTERM', () => {
  it('saves the world and exits 0, as supervisord and a vanilla server expect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ood-sigterm-'));
    try {
      const port = await freePort();
      writeFileSync(join(dir, 'server.properties'), `server-port=${port}\nonline-mode=false\nood-test-everybody-op=true\n`);
      const game = await startGame(dir);
      const ann = await joinBot(port, 'ann');
      const mark = new Vec3(3, 9, 3);
      ann.chat(`/setblock ${mark.x} ${mark.y} ${mark.z} gold_block`);
      await waitUntil('ann to see the block', () => ann.blockAt(mark)?.name === 'gold_block', 10_000);
      // No save-all: only the signal. flying-squid's exit-hook used to exit 143 here before any save.
      game.child.kill('SIGTERM');
      expect(await game.exited).toBe(0);
      await startGame(dir);
      const bob = await joinBot(port, 'bob');
      await waitUntil('bob to load the chunk', () => bob.blockAt(mark) !== null, 30_000);
      expect(bob.blockAt(mark)?.name).toBe('gold_block');
      await leave(bob);
    } finally {
      await endGames();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
