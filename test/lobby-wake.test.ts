import mc from 'minecraft-protocol';
import { status as utilStatus, statusLegacy as utilStatusLegacy } from 'minecraft-server-util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { statusPing } from '../controller/minecraft/status-ping.js';
import { joinBot, joinExpectingKick, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { freePort, makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const motdOf = async (port: number) => JSON.stringify((await statusPing('127.0.0.1', port, 2_000)).description);
/** The newest release before Transfer (1.20.5): the lobby turns its wakes away with text. Newer clients wait in the lobby (waiting-room.test.ts). */
const KICKED = '1.20.1';

describe('the lobby wakes a local server on join, on the game port itself', () => {
  let home: OodHome;
  let serving: Serving;
  const phase = () => serving.controller.store.servers.get('world')!.phase;

  beforeAll(async () => {
    home = await makeOodHome({ server: { lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Alex_1'] } } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('says asleep, turns away names that may not wake it, wakes for one that may, then hands the port to the game and takes it back', async () => {
    await waitUntil('the lobby to listen', () => serving.controller.lobby('world')!.listening, 10_000);
    expect(await motdOf(home.gamePort)).toContain('world: asleep — join to wake it');
    // A status ping never wakes.
    expect(serving.controller.store.servers.get('world')!.desired).toBe('down');

    expect(await joinExpectingKick(home.gamePort, 'Stranger')).toBe('Stranger may not wake world. Ask its admin to link your Minecraft name to your OoD account');
    expect(phase()).toBe('archived');

    // A name linked to a web account that may start servers wakes it too; here, the configured one.
    expect(await joinExpectingKick(home.gamePort, 'Alex_1', KICKED)).toMatch(/^Starting world, ready in (a minute or two|about \d+ s) — join again then$/);
    const audit = serving.controller.store.audit.forServer('world')[0]!;
    expect(audit).toMatchObject({ actor: 'minecraft:Alex_1', source: '127.0.0.1', action: 'start', detail: 'joined the lobby' });

    await waitUntil('running', () => phase() === 'running', 60_000, 100);
    // The same client, the same address: now the game answers, and Alex plays.
    const bot = await joinBot(home.gamePort, 'Alex_1');
    await waitUntil('the game to count Alex', () => serving.controller.view('world').observation?.players?.names.includes('Alex_1'), 15_000);
    await leave(bot);
    // Only one start was recorded.
    expect(serving.controller.store.audit.forServer('world').filter((a) => a.action === 'start')).toHaveLength(1);

    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
    await waitUntil('the lobby to take the port back', () => serving.controller.lobby('world')!.listening, 10_000);
    expect(await motdOf(home.gamePort)).toContain('asleep');
  }, 180_000);

  it('wakes for a Minecraft name linked to a web account with start', async () => {
    serving.controller.store.people.put('github:5', ['start'], 'test', Date.now());
    serving.controller.store.people.linkMinecraft('github:5', 'Linked_5');
    expect(await joinExpectingKick(home.gamePort, 'Linked_5', KICKED)).toMatch(/^Starting world/);
    // Joins during the start do not start it again.
    expect(await joinExpectingKick(home.gamePort, 'Linked_5', KICKED)).toMatch(/^world is already starting, ready in/);
    expect(serving.controller.store.audit.forServer('world').filter((a) => a.actor === 'minecraft:Linked_5')).toHaveLength(1);
    await waitUntil('running', () => phase() === 'running', 60_000, 100);
    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
  }, 180_000);
});

describe('the lobby in proxy mode keeps one address', () => {
  let home: OodHome;
  let serving: Serving;
  let gamePort: number;
  const phase = () => serving.controller.store.servers.get('world')!.phase;

  beforeAll(async () => {
    gamePort = await freePort();
    home = await makeOodHome({ server: { lobby: { mode: 'proxy', host: '127.0.0.1', gamePort, wakers: ['Proxy_1'] } } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('wakes on join, then carries the player to the game through the same port until they leave', async () => {
    await waitUntil('the lobby to listen', () => serving.controller.lobby('world')!.listening, 10_000);
    expect(await joinExpectingKick(home.gamePort, 'Proxy_1', KICKED)).toMatch(/^Starting world/);
    await waitUntil('running', () => phase() === 'running' && serving.controller.view('world').observation?.game === 'answering', 60_000, 100);
    expect(serving.controller.view('world').state.address).toBe(`127.0.0.1:${home.gamePort}`);

    // Through the lobby's port: the game behind it sees a player; the lobby counts the connection.
    const bot = await joinBot(home.gamePort, 'Proxy_1');
    expect(serving.controller.lobby('world')!.proxied).toBe(1);
    const heard = new Promise<string>((resolve) => bot.on('messagestr', (text) => {
      if (text.includes('through the lobby')) resolve(text);
    }));
    bot.chat('hello through the lobby');
    expect(await heard).toContain('hello through the lobby');
    await waitUntil('the game to count the player', () => serving.controller.view('world').observation?.players?.names.includes('Proxy_1'), 15_000);
    // Direct to the game's own port works too (it is the same game).
    expect((await statusPing('127.0.0.1', gamePort, 2_000)).players.online).toBe(1);
    await leave(bot);
    await waitUntil('the proxied connection to end', () => serving.controller.lobby('world')!.proxied === 0, 10_000);

    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
    expect(await motdOf(home.gamePort)).toContain('asleep');
  }, 180_000);
});

describe('the lobby tells the server list how long a start takes', () => {
  let home: OodHome;
  let serving: Serving;
  const phase = () => serving.controller.store.servers.get('world')!.phase;

  beforeAll(async () => {
    home = await makeOodHome({ server: { lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Eta_1'], versionName: 'OoD lobby' } } });
    // Each boot waits 4 s before it runs, so a start stays in the lobby's hands long enough to be pinged.
    serving = await serveInProcess(home.configPath, { OOD_FAILPOINTS: 'boot:before=4000' });
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('shows the ETA from past starts to minecraft-protocol, to minecraft-server-util and to a legacy ping', async () => {
    // One start and stop first, so there is a past start to take the median of.
    serving.controller.want('world', 'up', { actor: 'test', source: 'test' });
    await waitUntil('running', () => phase() === 'running', 60_000, 100);
    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
    await waitUntil('the lobby to take the port back', () => serving.controller.lobby('world')!.listening, 10_000);

    expect(await joinExpectingKick(home.gamePort, 'Eta_1', KICKED)).toMatch(/^Starting world, ready in about \d+ s — join again then$/);
    const starting = /world: starting, ready in about \d+ s/;
    const viaProtocol = (await mc.ping({ host: '127.0.0.1', port: home.gamePort, version: '1.20.1' })) as mc.NewPingResult;
    expect(JSON.stringify(viaProtocol.description)).toMatch(starting);
    expect(viaProtocol.version).toEqual({ name: 'OoD lobby', protocol: 763 });
    const viaUtil = await utilStatus('127.0.0.1', home.gamePort, { timeout: 3_000, enableSRV: false });
    expect(viaUtil.motd.clean).toMatch(starting);
    expect(viaUtil.version.name).toBe('OoD lobby');
    const legacy = await utilStatusLegacy('127.0.0.1', home.gamePort, { timeout: 3_000, enableSRV: false });
    expect(legacy.motd.clean).toMatch(starting);
    // Still in the lobby's hands: the boot has not run yet.
    expect(phase()).not.toBe('running');

    await waitUntil('running', () => phase() === 'running', 60_000, 100);
    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
  }, 180_000);
});
