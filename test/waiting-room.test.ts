import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { findHostProcesses, signalAll } from '../controller/drivers/local/processes.js';
import { joinBot, joinExpectingKick, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { freePort, makeOodHome, type OodHome } from './helpers/ood-home.js';
import { joinTransferred } from './helpers/transfer-client.js';
import { waitUntil } from './helpers/wait.js';
import { joinWaitingRoom } from './helpers/waiting-room-client.js';

const MARK = new Vec3(3, 6, 3);
/** The lobby's Keep Alive interval (LobbyOptions.keepAliveMs's default). */
const KEEP_ALIVE_MS = 10_000;

/**
 * The waiting room on the local driver, end to end (issue 20): a 1.21.4 client (minecraft-protocol
 * parses every packet the lobby sends) joins a sleeping server in wake mode, is held through the whole
 * start and moved to the game by Transfer; it reconnects as the vanilla client does (handshake intent 3)
 * and plays on the real game.
 */
describe('a join that wakes a server waits in the lobby and is moved to the game', () => {
  let home: OodHome;
  let serving: Serving;
  const phase = () => serving.controller.store.servers.get('world')!.phase;

  beforeAll(async () => {
    home = await makeOodHome({ server: { lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Alex_1'] } } });
    // The boot waits 12 s before it runs: the hold outlasts a Keep Alive interval, so one is answered.
    serving = await serveInProcess(home.configPath, { OOD_FAILPOINTS: `boot:before=${KEEP_ALIVE_MS + 2_000}` });
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('holds Alex through the start, sends Transfer to the game\'s address, and Alex plays there', async () => {
    await waitUntil('the lobby to listen', () => serving.controller.lobby('world')!.listening, 10_000);
    const joinedAt = Date.now();
    const alex = joinWaitingRoom(home.gamePort, 'Alex_1');
    try {
      await waitUntil('Alex to be held', () => serving.controller.lobby('world')!.waiting === 1, 10_000);
      expect(serving.controller.store.servers.get('world')!.desired).toBe('up');
      // The whole start, provision to a game that answers, happens while Alex waits.
      await waitUntil('the boot to begin', () => phase() === 'booting', 20_000, 50);
      const end = await alex.end;
      if (!('transfer' in end)) throw new Error(`Alex was let go instead of moved to the game: ${JSON.stringify(end)}`);
      expect(end).toEqual({ transfer: { host: '127.0.0.1', port: home.gamePort } });
      expect(alex.configurationAt).toBeDefined();
      const heldMs = alex.endedAt! - alex.configurationAt!;
      expect(heldMs).toBeGreaterThan(KEEP_ALIVE_MS);
      expect(alex.keepAlives).toBeGreaterThanOrEqual(Math.floor(heldMs / KEEP_ALIVE_MS));
      console.log(`Alex waited ${((alex.endedAt! - joinedAt) / 1000).toFixed(1)} s in the lobby (${alex.keepAlives} keep-alives answered)`);
      // Transfer came only once the game answered, and to the address the card shows.
      const view = serving.controller.view('world');
      expect(view.state.phase).toBe('running');
      expect(view.state.address).toBe(`${end.transfer.host}:${end.transfer.port}`);
      expect(serving.controller.lobby('world')!.waiting).toBe(0);
    } finally {
      alex.close();
    }

    // Alex's client connects where Transfer said, with handshake intent 3, and is let in.
    const joined = await joinTransferred(home.gamePort, 'Alex_1');
    if (!('bot' in joined)) throw new Error(`the game turned Alex away after the transfer: ${joined.kicked}`);
    const bot = joined.bot;
    const bea = await joinBot(home.gamePort, 'Bea_2');
    try {
      const heard = new Promise<string>((resolve) => bea.on('messagestr', (text) => {
        if (text.includes('joined once')) resolve(text);
      }));
      bot.chat('joined once, played at once');
      expect(await heard).toContain('joined once, played at once');
      bot.chat(`/setblock ${MARK.x} ${MARK.y} ${MARK.z} gold_block`);
      await waitUntil('Bea to see Alex\'s block', () => bea.blockAt(MARK)?.name === 'gold_block', 10_000);
      await waitUntil('the game to count both', () => serving.controller.view('world').observation?.players?.names.length === 2, 15_000);
    } finally {
      await leave(bot);
      await leave(bea);
    }
    // One wake, by Alex's join.
    expect(serving.controller.store.audit.forServer('world').filter((a) => a.action === 'start')).toMatchObject([{ actor: 'minecraft:Alex_1', detail: 'joined the lobby' }]);
  }, 180_000);

  it('kicks a 1.12.2 client with the ETA as before: it cannot be held', async () => {
    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
    await waitUntil('the lobby to take the port back', () => serving.controller.lobby('world')!.listening, 10_000);
    expect(await joinExpectingKick(home.gamePort, 'Alex_1', '1.12.2')).toMatch(/^Starting world, ready in (a minute or two|about \d+ s) — join again then$/);
    expect(serving.controller.lobby('world')!.waiting).toBe(0);
    await waitUntil('running', () => phase() === 'running', 60_000, 100);
  }, 180_000);
});

describe('in proxy mode the held join is moved to the lobby itself, which now forwards to the game', () => {
  let home: OodHome;
  let serving: Serving;

  beforeAll(async () => {
    home = await makeOodHome({ server: { lobby: { mode: 'proxy', host: '127.0.0.1', gamePort: await freePort(), wakers: ['Finn_6'] } } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('sends Transfer to the address players keep using, and the transferred join reaches the game through it', async () => {
    await waitUntil('the lobby to listen', () => serving.controller.lobby('world')!.listening, 10_000);
    const finn = joinWaitingRoom(home.gamePort, 'Finn_6');
    try {
      expect(await finn.end).toEqual({ transfer: { host: '127.0.0.1', port: home.gamePort } });
    } finally {
      finn.close();
    }
    expect(serving.controller.view('world').state.address).toBe(`127.0.0.1:${home.gamePort}`);
    const joined = await joinTransferred(home.gamePort, 'Finn_6');
    if (!('bot' in joined)) throw new Error(`the game behind the lobby turned Finn away: ${joined.kicked}`);
    try {
      expect(serving.controller.lobby('world')!.proxied).toBe(1);
      await waitUntil('the game to count Finn', () => serving.controller.view('world').observation?.players?.names.includes('Finn_6'), 15_000);
    } finally {
      await leave(joined.bot);
    }
  }, 120_000);
});

describe('a held join is let go with the reason', () => {
  let home: OodHome;
  let serving: Serving;
  let slowPort: number;
  const phase = (id: string) => serving.controller.store.servers.get(id)!.phase;

  beforeAll(async () => {
    slowPort = await freePort();
    const local = (command: string[]) => ({ command, template: './template', publicHost: '127.0.0.1' });
    home = await makeOodHome({
      reconcile: { maxAttempts: 2 },
      config: {
        servers: [
          // A game that exits at once: the start fails.
          { id: 'broken', game: { port: await freePort(), rconPort: await freePort() }, local: local(['false']), lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Cleo_3'] } },
          // A game that never answers: the start takes longer than holdFor.
          {
            id: 'slow',
            game: { port: slowPort, rconPort: await freePort() },
            local: local(['sleep', '600']),
            deadlines: { booting: '2m', stopping: '2s', poweringOff: '2s' },
            lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Dan_4', 'Eve_5'], holdFor: '3s' },
          },
        ],
      },
    });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    for (const id of ['broken', 'slow']) signalAll(await findHostProcesses(home.hostDir(id)), 'SIGKILL');
    await home?.cleanup();
  });

  it('when the start fails', async () => {
    const port = serving.controller.config.servers.find((s) => s.id === 'broken')!.game.port;
    await waitUntil('the lobby to listen', () => serving.controller.lobby('broken')!.listening, 10_000);
    const cleo = joinWaitingRoom(port, 'Cleo_3');
    try {
      await waitUntil('Cleo to be held', () => serving.controller.lobby('broken')!.waiting === 1, 10_000);
      expect(await cleo.end).toEqual({ kick: "broken could not start and needs attention; ask its admin (see OoD's page)" });
      expect(phase('broken')).toBe('failed');
      expect(cleo.configurationAt).toBeDefined();
    } finally {
      cleo.close();
    }
  }, 120_000);

  it('after holdFor, and a 1.12.2 client that joins the same start is told the ETA', async () => {
    await waitUntil('the lobby to listen', () => serving.controller.lobby('slow')!.listening, 10_000);
    // The old client wakes it and is kicked with the ETA; the new one joins the start under way and is held.
    expect(await joinExpectingKick(slowPort, 'Dan_4', '1.12.2')).toMatch(/^Starting slow, ready in (a minute or two|about \d+ s) — join again then$/);
    const eve = joinWaitingRoom(slowPort, 'Eve_5');
    try {
      await waitUntil('Eve to be held', () => serving.controller.lobby('slow')!.waiting === 1, 10_000);
      const end = await eve.end;
      expect(end).toEqual({ kick: 'slow did not start within 3 s; join again' });
      expect(eve.endedAt! - eve.configurationAt!).toBeGreaterThanOrEqual(2_500);
      // The server goes on starting: holdFor lets the player go, not the start.
      expect(serving.controller.store.servers.get('slow')!.desired).toBe('up');
      expect(serving.controller.lobby('slow')!.waiting).toBe(0);
    } finally {
      eve.close();
    }
    serving.controller.want('slow', 'down', { actor: 'test', source: 'test' });
    await waitUntil('slow archived', () => phase('slow') === 'archived', 60_000, 100);
  }, 120_000);
});
