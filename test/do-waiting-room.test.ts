import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mc from 'minecraft-protocol';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parseProperties } from '../controller/minecraft/properties.js';
import { statusPing } from '../controller/minecraft/status-ping.js';
import { apiFor } from './helpers/api.js';
import { leave, reasonText } from './helpers/bot.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { joinTransferred } from './helpers/transfer-client.js';
import { waitUntil } from './helpers/wait.js';

/** Longer than a start takes here (about a minute on a loaded 2-core machine), shorter than the test's bound. */
const HOLD_FOR_MS = 240_000;

/** What the held client lived through, from its first packet to the Transfer. */
interface Held {
  configurationAt?: number;
  /** How many droplets the account had when the hold began. */
  dropletsAtHold?: number;
  keepAlives: number;
  transfer?: { host: string; port: number; at: number };
  /** Set if the connection ended, or was told to, before a Transfer came: the hold failed. */
  ended?: string;
}

/**
 * Issue 20's waiting room on `driver: digitalocean` (fake API, loopback droplets running the bundled
 * game, the real `pulumi` CLI and OoD's provider plugin): a 1.21.4 client joins the sleeping server
 * through the lobby on this machine, is held in the configuration state while the droplet is created
 * and the game starts (keep-alives answered, never disconnected), receives Transfer naming the
 * droplet's address, reconnects there with handshake intent 3 as the vanilla client does, and plays.
 */
describe('the waiting room holds a join while a droplet starts, then transfers it there', () => {
  let world: DoWorld;
  let controller: ControllerProcess;
  beforeAll(async () => {
    world = await makeDoWorld({
      server: {
        // An offline-mode client, as the droplet's game is (the base image's online-mode=false): no session server.
        lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['ann'], holdFor: `${HOLD_FOR_MS / 1000}s`, authenticate: false },
        deadlines: { booting: '120s', stopping: '30s', poweringOff: '20s' },
      },
    });
    controller = await startControllerProcess(world.configPath, world.env);
  });
  afterAll(async () => {
    await controller?.stop();
    await world?.cleanup();
  });

  const api = () => apiFor(controller.url);
  const droplet = () => [...world.fake.state.droplets.values()].find((d) => d.status !== 'archive');

  it('holds ann through the start, transfers her to the droplet\'s game, where she plays', async () => {
    onTestFailed(() => {
      console.log(`The controller said:\n${controller.output().slice(-8000)}`);
    });
    await waitUntil('the lobby to answer', async () => JSON.stringify((await statusPing('127.0.0.1', world.gamePort, 2_000)).description).includes('asleep'), 30_000, 200);
    expect((await api().server()).phase).toBe('archived');

    const held: Held = { keepAlives: 0 };
    const joinedAt = Date.now();
    const client = mc.createClient({ host: '127.0.0.1', port: world.gamePort, username: 'ann', version: '1.21.4', auth: 'offline', hideErrors: true });
    const transferred = new Promise<{ host: string; port: number; at: number }>((resolve, reject) => {
      const fail = (why: string) => {
        held.ended ??= why;
        reject(new Error(`ann's hold ended before a Transfer: ${why}`));
      };
      client.on('state', (state) => {
        if (state !== 'configuration' || held.configurationAt !== undefined) return;
        held.configurationAt = Date.now();
        held.dropletsAtHold = world.fake.state.droplets.size;
      });
      // minecraft-protocol answers each Keep Alive itself (client/keepalive.js); counted here.
      client.on('keep_alive', () => void held.keepAlives++);
      client.on('transfer', (packet: { host: string; port: number }) => {
        held.transfer ??= { host: packet.host, port: packet.port, at: Date.now() };
        resolve(held.transfer);
        // As the vanilla client does: it leaves the lobby, then connects to the named host.
        client.end('transferred');
      });
      client.on('disconnect', (packet: { reason: unknown }) => fail(`disconnected: ${reasonText(packet.reason)}`));
      client.on('kick_disconnect', (packet: { reason: unknown }) => fail(`kicked: ${reasonText(packet.reason)}`));
      client.on('end', (why: string) => {
        if (!held.transfer) fail(`connection ended: ${why}`);
      });
      client.on('error', (err: Error) => fail(`error: ${err.message}`));
      setTimeout(() => fail(`no Transfer within ${HOLD_FOR_MS + 30_000} ms`), HOLD_FOR_MS + 30_000).unref();
    });

    try {
      const transfer = await transferred;
      const heldMs = transfer.at - joinedAt;
      console.log(`ann held ${(heldMs / 1000).toFixed(1)} s (${held.keepAlives} keep-alives) while the droplet started`);
      expect(held.ended).toBeUndefined();
      expect(held.configurationAt).toBeDefined();
      // Held from before the droplet existed: the whole start, not only its end.
      expect(held.dropletsAtHold).toBe(0);
      // The lobby keeps a held client alive with a Keep Alive every 10 s: none missed.
      expect(held.keepAlives).toBeGreaterThanOrEqual(Math.floor((transfer.at - held.configurationAt!) / 10_000) - 1);

      // The droplet's address, as the API (and so the web card) says it.
      const server = await api().server();
      const made = droplet();
      expect(made).toBeDefined();
      expect(transfer).toMatchObject({ host: made!.ipv4, port: world.gamePort });
      expect(server.address).toBe(`${transfer.host}:${transfer.port}`);
      // Only one start, by ann's join.
      expect(world.fake.state.droplets.size).toBe(1);

      const joined = await joinTransferred(transfer.port, 'ann', transfer.host);
      if (!('bot' in joined)) throw new Error(`ann was turned away by the droplet's game: ${joined.kicked}`);
      const bot = joined.bot;
      // What let her in: OoD wrote it on the droplet before it started the game.
      const props = parseProperties(readFileSync(join(world.machines.paths(made!.id).minecraft, 'server.properties'), 'utf8'));
      expect(props.get('accepts-transfers')).toBe('true');
      const heard: string[] = [];
      bot.on('messagestr', (text) => void heard.push(text));
      await waitUntil('the API to count ann', async () => (await api().server()).players.names.includes('ann'), 30_000, 250);
      bot.chat('moved in without joining twice');
      await waitUntil('ann to hear herself in chat', () => heard.includes('<ann> moved in without joining twice'), 15_000).catch((err: Error) => {
        throw new Error(`${err.message}; ann heard ${JSON.stringify(heard)}`);
      });
      await leave(bot);
    } finally {
      client.end('test over');
    }
  }, HOLD_FOR_MS + 120_000);
});
