import mc from 'minecraft-protocol';
import mineflayer, { type Bot } from 'mineflayer';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { findHostProcesses, signalAll } from '../controller/drivers/local/processes.js';
import { bundledGameCommand } from '../controller/game/command.js';
import { leave, reasonText } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { ood } from './helpers/ood-cli.js';
import { handshakeAsTransfer } from './helpers/transfer-client.js';
import { freePort, makeOodHome, type OodHome } from './helpers/ood-home.js';
import { rawLoginRefusal, rawMotd } from './helpers/raw-minecraft.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Two local servers (the bundled game) behind one shared lobby port, each reached by its name:
 * `alpha.mc.test` (wake mode) and `beta.mc.test` (proxy mode). Clients connect to 127.0.0.1 and name the
 * server in their handshake, as a player's client names what they typed.
 */

const ALPHA = 'alpha.mc.test';
const BETA = 'beta.mc.test';

/** minecraft-protocol's ping with `name` in its handshake, connected to 127.0.0.1. */
async function pingAs(port: number, name: string): Promise<string> {
  const answer = (await mc.ping({ host: name, port, version: '1.21.4', connect: (client: mc.Client) => client.setSocket(connect(port, '127.0.0.1')) } as mc.PingOptions)) as mc.NewPingResult;
  return JSON.stringify(answer.description);
}

function botAs(port: number, name: string, username: string, version: string): Bot {
  return mineflayer.createBot({ host: '127.0.0.1', fakeHost: name, port, username, version, auth: 'offline', hideErrors: true } as mineflayer.BotOptions);
}

/** Joins through the shared port by name expecting a disconnect: its reason as text. */
async function kickedAs(port: number, name: string, username: string, version = '1.20.1'): Promise<string> {
  const bot = botAs(port, name, username, version);
  return reasonText(
    await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${username} was not turned away within 30 s`)), 30_000);
      bot.once('kicked', (why) => (clearTimeout(timer), resolve(why)));
      bot.once('spawn', () => (clearTimeout(timer), bot.quit(), reject(new Error(`${username} spawned instead of being turned away`))));
      bot.once('error', (err) => (clearTimeout(timer), reject(err)));
    }),
  );
}

/** Joins through the shared port by name and spawns (1.21.4, the bundled game's version). */
async function joinAs(port: number, name: string, username: string): Promise<Bot> {
  const bot = botAs(port, name, username, '1.21.4');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${username} did not spawn within 30 s`)), 30_000);
    bot.once('spawn', () => (clearTimeout(timer), resolve()));
    bot.once('kicked', (why) => reject(new Error(`${username} was kicked: ${reasonText(why)}`)));
    bot.once('error', reject);
  });
  return bot;
}

/** A 1.21.4 client joining through the shared port by name, held until it is sent on: the Transfer's target. */
function heldAs(port: number, name: string, username: string): Promise<{ host: string; port: number }> {
  const client = mc.createClient({ host: '127.0.0.1', fakeHost: name, port, username, version: '1.21.4', auth: 'offline', hideErrors: true });
  client.on('error', () => {}); // the end is what is looked at
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (client.end(), reject(new Error(`${username} was not transferred within 90 s`))), 90_000);
    client.once('transfer', (packet: { host: string; port: number }) => {
      clearTimeout(timer);
      client.end();
      resolve({ host: packet.host, port: packet.port });
    });
    client.once('end', (why: string) => (clearTimeout(timer), reject(new Error(`${username}'s held join ended before a transfer: ${why}`))));
  });
}

/** Connects where a Transfer said, as a vanilla client does (handshake intent 3 naming the target's host), and spawns. */
async function transferredTo(target: { host: string; port: number }, username: string): Promise<Bot> {
  const bot = botAs(target.port, target.host, username, '1.21.4');
  handshakeAsTransfer(bot._client);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${username} did not spawn within 30 s of its transfer`)), 30_000);
    bot.once('spawn', () => (clearTimeout(timer), resolve()));
    bot.once('kicked', (why) => reject(new Error(`${username} was kicked: ${reasonText(why)}`)));
    bot.once('error', reject);
  });
  return bot;
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

describe('one lobby address for two servers, by name', () => {
  let home: OodHome;
  let serving: Serving;
  let shared: number;
  let beta: { port: number; rconPort: number; gamePort: number };
  const phase = (id: string) => serving.controller.store.servers.get(id)!.phase;

  beforeAll(async () => {
    shared = await freePort();
    beta = { port: await freePort(), rconPort: await freePort(), gamePort: await freePort() };
    home = await makeOodHome({ server: { lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Alex_1'], hostnames: [ALPHA] } } });
    const alpha = parse(readFileSync(home.configPath, 'utf8')) as { servers: Record<string, unknown>[] };
    const second = {
      ...alpha.servers[0],
      id: 'beta',
      game: { port: beta.port, rconPort: beta.rconPort },
      local: { command: bundledGameCommand(), template: './template', publicHost: '127.0.0.1' },
      lobby: { mode: 'proxy', host: '127.0.0.1', gamePort: beta.gamePort, wakers: ['Sam_2'], hostnames: [BETA] },
    };
    writeFileSync(home.configPath, stringify({ ...alpha, lobby: { listen: `127.0.0.1:${shared}` }, servers: [alpha.servers[0], second] }));
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    signalAll(await findHostProcesses(home.hostDir('beta')), 'SIGKILL');
    await home?.cleanup();
  });

  it('config check shows the routing table', async () => {
    const check = await ood(['config', 'check', '--config', home.configPath], { env: { OOD_OAUTH_GITHUB_SECRET: '', OOD_DISCORD_WEBHOOK_URL: '', OOD_WEBHOOK_URL: '' } });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`  shared lobby on 127.0.0.1:${shared}:\n    alpha.mc.test  → world\n    beta.mc.test   → beta\n    any other name → the list of names above`);
    expect(check.stdout).toContain('lobby: wake on the shared lobby only');
  });

  it('answers each name with its own server, an unknown name with the list, and wakes nothing by a ping', async () => {
    await waitUntil('the shared lobby to listen', () => serving.controller.sharedLobby()?.listening, 10_000);
    expect(await pingAs(shared, ALPHA)).toContain('world: asleep — join to wake it');
    expect(await pingAs(shared, BETA)).toContain('beta: asleep — join to wake it');
    expect(await pingAs(shared, 'gamma.mc.test')).toContain(`No server by that name here: join ${ALPHA}, ${BETA}`);
    // Forge's suffix and a fully qualified name with its trailing dot, in a handshake written by hand.
    expect(await rawMotd(shared, `${BETA}\0FML2\0`)).toContain('beta: asleep');
    expect(await rawMotd(shared, 'Alpha.MC.test.')).toContain('world: asleep');
    expect(await rawLoginRefusal(shared, 'gamma.mc.test', 'Alex_1')).toContain(`This address names no server here. Join one of: ${ALPHA}, ${BETA}`);
    expect(await kickedAs(shared, 'gamma.mc.test', 'Alex_1')).toBe(`This address names no server here. Join one of: ${ALPHA}, ${BETA}`);
    expect(serving.controller.store.servers.get('world')!.desired).toBe('down');
    expect(serving.controller.store.servers.get('beta')!.desired).toBe('down');
    // Reached through the shared lobby, neither keeps a lobby on its own game port.
    expect(serving.controller.lobby('world')!.listening).toBe(false);
    expect(await refused(home.gamePort)).toBe(true);
    expect(await refused(beta.port)).toBe(true);
  });

  it('wakes the wake-mode server by its name; its game then binds its own port, where Alex plays', async () => {
    expect(await kickedAs(shared, `${ALPHA}.`, 'Stranger')).toBe('Stranger may not wake world. Ask its admin to link your Minecraft name to your OoD account');
    expect(await kickedAs(shared, ALPHA, 'Alex_1')).toMatch(/^Starting world, ready in (a minute or two|about \d+ s) — join again then$/);
    expect(serving.controller.store.servers.get('beta')!.desired).toBe('down');
    await waitUntil('world running', () => phase('world') === 'running', 60_000, 100);
    const bot = await joinAs(home.gamePort, ALPHA, 'Alex_1');
    await waitUntil('the game to count Alex', () => serving.controller.view('world').observation?.players?.names.includes('Alex_1'), 15_000);
    await leave(bot);
    expect(await pingAs(shared, ALPHA)).toContain('world: up');
    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('world archived', () => phase('world') === 'archived', 60_000, 100);
  }, 180_000);

  it('wakes the proxy-mode server by its name, then carries Sam to its game through the shared port', async () => {
    expect(await kickedAs(shared, `${BETA}\0FML2\0`, 'Sam_2')).toMatch(/^Starting beta/);
    await waitUntil('beta running and answering', () => phase('beta') === 'running' && serving.controller.view('beta').observation?.game === 'answering', 60_000, 100);
    // The game itself answers the status now: its own MOTD, from its server.properties.
    expect(await pingAs(shared, BETA)).toContain('OoD test');
    expect(await pingAs(shared, ALPHA)).toContain('world: asleep');

    const bot = await joinAs(shared, BETA, 'Sam_2');
    expect(serving.controller.sharedLobby()!.proxied).toBe(1);
    const heard = new Promise<string>((resolve) => bot.on('messagestr', (text) => {
      if (text.includes('through one address')) resolve(text);
    }));
    bot.chat('hello through one address');
    expect(await heard).toContain('hello through one address');
    await waitUntil('the game to count Sam', () => serving.controller.view('beta').observation?.players?.names.includes('Sam_2'), 15_000);
    await leave(bot);
    await waitUntil('the forwarded connection to end', () => serving.controller.sharedLobby()!.proxied === 0, 10_000);
    serving.controller.want('beta', 'down', { actor: 'test', source: 'test' });
    await waitUntil('beta archived', () => phase('beta') === 'archived', 60_000, 100);
  }, 180_000);
  it('holds a 1.21.4 client by name in the waiting room and transfers it to that server: the game for wake mode, the shared lobby for proxy mode', async () => {
    // Wake mode: the transfer names the game's own address, where the client plays.
    const toAlpha = await heldAs(shared, ALPHA, 'Alex_1');
    expect(toAlpha).toEqual({ host: '127.0.0.1', port: home.gamePort });
    await waitUntil('world running', () => phase('world') === 'running', 60_000, 100);
    const alex = await transferredTo(toAlpha, 'Alex_1');
    await waitUntil('the game to count Alex', () => serving.controller.view('world').observation?.players?.names.includes('Alex_1'), 15_000);
    await leave(alex);

    // Proxy mode: the transfer names beta's first name on the shared port, which forwards to the game.
    const toBeta = await heldAs(shared, BETA, 'Sam_2');
    expect(toBeta).toEqual({ host: BETA, port: shared });
    const sam = await transferredTo(toBeta, 'Sam_2');
    expect(serving.controller.sharedLobby()!.proxied).toBe(1);
    await waitUntil('the game to count Sam', () => serving.controller.view('beta').observation?.players?.names.includes('Sam_2'), 15_000);
    await leave(sam);
    for (const id of ['world', 'beta']) serving.controller.want(id, 'down', { actor: 'test', source: 'test' });
    await waitUntil('both archived', () => phase('world') === 'archived' && phase('beta') === 'archived', 60_000, 100);
  }, 180_000);
});

describe('ood config check refuses one name for two servers', () => {
  it('names both servers and the name', async () => {
    const home = await makeOodHome();
    try {
      const port = await freePort();
      const server = (id: string, p: number) => ({ id, game: { port: p, rconPort: p + 1 }, lobby: { mode: 'wake', hostnames: ['mc.example.com'] } });
      writeFileSync(home.configPath, stringify({ listen: { host: '127.0.0.1', port: 0 }, lobby: { listen: `127.0.0.1:${port}` }, servers: [server('survival', 30010), server('creative', 30020)] }));
      const check = await ood(['config', 'check', '--config', home.configPath], { env: { OOD_OAUTH_GITHUB_SECRET: '', OOD_DISCORD_WEBHOOK_URL: '', OOD_WEBHOOK_URL: '' } });
      expect(check.code).not.toBe(0);
      expect(check.stderr).toContain('servers[1].lobby.hostnames[0]: host name mc.example.com is claimed by both survival and creative');
    } finally {
      await home.cleanup();
    }
  });
});
