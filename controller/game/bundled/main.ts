/**
 * OoD's test Minecraft server: flying-squid (a real Minecraft-protocol server) with what OoD needs of
 * a vanilla server and flying-squid lacks: it reads `server.properties` in its working directory,
 * answers RCON (`list` in vanilla wording, `save-all` that waits for the save, `save-off`/`save-on`, `say`, `stop`), and
 * saves the world before it exits on `stop`, SIGTERM or SIGINT.
 *
 * Run it in the server's working directory: `node --import tsx controller/game/bundled/main.ts`
 * (`game.kind: bundled`, see `../command.ts`).
 * `npm start` uses it as the embedded default's game so no download from Mojang is needed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { parseProperties } from '../../minecraft/properties.js';
import { componentFromCodes, componentToNbt, plainComponent, type ChatComponent } from './chat-codes.js';
import { PortHandover, readyOrLate } from './port-handover.js';
import { startRconServer } from './rcon-server.js';
import { handleTransfers, type TransferringServer } from './transfers.js';

/** What a player's chat event carries (flying-squid's plugins/chat.js): `data` is the 1.19+ packet. */
interface ChatEvent {
  text?: string;
  data?: { message: string };
}
interface Player {
  username: string;
  save(): Promise<void>;
  on(event: 'chat', cb: (event: ChatEvent) => void): void;
  on(event: 'spawned' | 'disconnected', cb: () => void): void;
}
interface ChunkPos {
  chunkX: number;
  chunkZ: number;
}
/** The parts of prismarine-world 3.7's `World` (node_modules/prismarine-world/src/world.js) used here. */
interface World {
  storageProvider: { save(chunkX: number, chunkZ: number, column: unknown): Promise<void> } | null;
  columns: Record<string, unknown>;
  savingQueue: Map<string, ChunkPos>;
  unloadQueue: Map<string, ChunkPos>;
  finishedSaving: Promise<unknown>;
  getColumns(): { chunkX: string; chunkZ: string; column: unknown }[];
  queueSaving(chunkX: number, chunkZ: number): void;
  forceUnloadColumn(key: string, chunkX: number, chunkZ: number): void;
  saveNow(): Promise<void>;
  unloadColumn(chunkX: number, chunkZ: number): void;
  emit(event: 'doneSaving'): boolean;
  /** prismarine-world's autosave timer (world.js:163-183), every `savingInterval` ms. */
  startSaving(): void;
  stopSaving(): void;
}
interface FlyingSquid {
  players: Player[];
  overworld: World;
  broadcast(message: string | ChatComponent): void;
  supportFeature(feature: string): boolean;
  _createChatComponent(message: string | ChatComponent): unknown;
  quit(reason?: string): Promise<void>;
  commands: { use(command: string, ctx: object, op: boolean): Promise<string | undefined> };
  on(event: 'listening', cb: () => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'newPlayer', cb: (player: Player) => void): void;
  once(event: 'pluginsReady', cb: () => void): void;
  waitForReady(timeout: number): Promise<unknown>;
  _server: { socketServer: Server; version: string } & TransferringServer;
}

// flying-squid's log plugin loads exit-hook 2.2.1, which answers SIGTERM/SIGINT with process.exit(128 +
// signal) before the world is saved. These signals belong to this file (it saves, then exits): any other
// listener is removed as soon as it is added.
const ownSignalHandlers = new Set<unknown>();
process.on('newListener', (event, listener) => {
  if ((event === 'SIGTERM' || event === 'SIGINT') && !ownSignalHandlers.has(listener)) queueMicrotask(() => process.removeListener(event, listener as () => void));
});

const require = createRequire(import.meta.url);
const { createMCServer } = require('flying-squid') as { createMCServer(options: object): FlyingSquid };

/**
 * Makes every world keep a changed chunk queued, and in memory, until a write of it that started
 * after the change has finished. prismarine-world 3.7.0's `saveNow` (world.js:144-161) starts the
 * writes of the queued chunks, awaits them, then clears the whole queue, so a chunk changed while an
 * autosave is writing leaves the queue unsaved. When the last player near it leaves, flying-squid
 * unloads it (its src/lib/plugins/logout.js:20 and world.js:135), and `unloadColumn` (world.js:126)
 * drops a chunk that is not queued from memory at once: the change is then neither on disk nor in
 * `getColumns()`, and no later save can find it. Seen as a lost /setblock in OoD's life-cycle test
 * (issue 5, item 6). Here a chunk leaves the queue when its write starts (prismarine-provider-anvil
 * encodes the chunk when `save` is called, anvil.js:43-46), so a change during the write queues it
 * again, and a chunk is unloaded only when it is neither queued nor being written. Patched on the
 * prototype, before flying-squid makes its worlds, so no autosave ever runs the original.
 */
function keepChangesUntilSaved(proto: World): void {
  const writingIn = new WeakMap<World, Map<string, number>>();
  const writing = (world: World) => {
    let counts = writingIn.get(world);
    if (!counts) writingIn.set(world, (counts = new Map()));
    return counts;
  };
  proto.saveNow = async function (this: World) {
    const provider = this.storageProvider;
    if (!provider) return;
    const inFlight = writing(this);
    const batch = [...this.savingQueue];
    this.savingQueue.clear();
    const writes = batch.map(async ([key, { chunkX, chunkZ }]) => {
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      try {
        await provider.save(chunkX, chunkZ, this.columns[key]);
      } catch (err) {
        this.queueSaving(chunkX, chunkZ);
        throw err;
      } finally {
        const left = inFlight.get(key)! - 1;
        if (left > 0) inFlight.set(key, left);
        else inFlight.delete(key);
      }
    });
    // Includes the writes of a save still running, so awaiting it covers those too.
    this.finishedSaving = Promise.all([this.finishedSaving, ...writes]).then(() => undefined);
    await this.finishedSaving;
    for (const [key, { chunkX, chunkZ }] of this.unloadQueue) {
      if (!this.savingQueue.has(key) && !inFlight.has(key)) this.forceUnloadColumn(key, chunkX, chunkZ);
    }
    this.emit('doneSaving');
  };
  proto.unloadColumn = function (this: World, chunkX: number, chunkZ: number) {
    const key = `${chunkX},${chunkZ}`;
    if (this.savingQueue.has(key) || writing(this).has(key)) this.unloadQueue.set(key, { chunkX, chunkZ });
    else this.forceUnloadColumn(key, chunkX, chunkZ);
  };
}
// The copy of prismarine-world that flying-squid itself loads; its loader ignores the version.
const squidRequire = createRequire(require.resolve('flying-squid'));
keepChangesUntilSaved((squidRequire('prismarine-world') as () => { prototype: World })().prototype);

const started = Date.now();
const props = parseProperties(existsSync('server.properties') ? readFileSync('server.properties', 'utf8') : '');
const prop = (key: string, fallback: string) => props.get(key) || fallback;
const version = prop('ood-test-version', '1.21.4');

const gamePort = Number(prop('server-port', '25565'));
const gameHost = prop('server-ip', '') || undefined;
const serv = createMCServer({
  port: gamePort,
  host: gameHost,
  'online-mode': prop('online-mode', 'false') === 'true',
  'max-players': Number(prop('max-players', '20')),
  motd: prop('motd', 'OoD test server'),
  version,
  worldFolder: prop('level-name', 'world'),
  generation: { name: 'superflat', options: { worldHeight: 80 } },
  logging: false,
  gameMode: 1,
  'everybody-op': prop('ood-test-everybody-op', 'false') === 'true',
  'view-distance': 4,
  kickTimeout: 10_000,
  plugins: {},
  'player-list-text': { header: { text: 'OoD' }, footer: { text: 'test server' } },
});
// OoD's waiting room moves players here with a Transfer packet; vanilla's key decides, default off.
handleTransfers(serv._server, prop('accepts-transfers', 'false') === 'true');

/**
 * Chat as components (see `chat-codes.ts`): flying-squid's own `&` codes become colours on every
 * version, where it wrote them into 1.20.3+'s NBT text as they were. A player's words stay plain: their
 * `&` is doubled before flying-squid builds the line, so no player colours chat (vanilla does not let
 * them) and "fish & chips" reads the same.
 */
const nbtChat = serv.supportFeature('chatPacketsUseNbtComponents');
serv._createChatComponent = (message) => {
  const component = typeof message === 'string' ? componentFromCodes(message) : message;
  if (nbtChat) {
    const tag = componentToNbt(component);
    return Object.assign(tag, { toNetworkFormat: () => tag });
  }
  return Object.assign({ ...component }, { toNetworkFormat: () => JSON.stringify(component) });
};
/**
 * The console lines vanilla prints for what people do (OoD's console shows the game's log, issue 21):
 * `[HH:MM:SS] [Server thread/INFO]: Alex joined the game`. flying-squid prints none with logging off.
 */
function logLine(text: string): void {
  const now = new Date();
  const time = [now.getHours(), now.getMinutes(), now.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  console.log(`[${time}] [Server thread/INFO]: ${text}`);
}
serv.on('newPlayer', (player) => {
  player.on('spawned', () => logLine(`${player.username} joined the game`));
  player.on('disconnected', () => logLine(`${player.username} left the game`));
});
serv.on('newPlayer', (player) =>
  player.on('chat', (event) => {
    logLine(`<${player.username}> ${event.data?.message ?? event.text ?? ''}`);
    if (event.data) event.data = { ...event.data, message: event.data.message.replaceAll('&', '&&') };
    if (event.text !== undefined) event.text = event.text.replaceAll('&', '&&');
  }),
);

/**
 * Writes every loaded chunk, as vanilla's `save-all flush` does, and waits for any autosave still
 * writing. Not `waitSaving()`: it waits for the next autosave whenever the queue is not empty.
 */
async function saveAll(): Promise<void> {
  await Promise.all(serv.players.map((p) => p.save()));
  const world = serv.overworld;
  if (!world.storageProvider) return;
  for (const { chunkX, chunkZ } of world.getColumns()) world.queueSaving(Number(chunkX), Number(chunkZ));
  await world.saveNow();
}

let stopping: Promise<never> | undefined;
function stop(code = 0): Promise<never> {
  stopping ??= (async () => {
    console.log('Stopping the server');
    await saveAll();
    await serv.quit('Server closed');
    await saveAll();
    console.log('Saved the world; exiting');
    process.exit(code);
  })();
  return stopping;
}

/** Whether the overworld's autosave runs (RCON save-off / save-on). */
let autosaving = true;

async function runCommand(command: string): Promise<string> {
  const [name = '', ...rest] = command.trim().split(/\s+/);
  switch (name.replace(/^\//, '')) {
    case 'list': {
      const names = serv.players.map((p) => p.username);
      return `There are ${names.length} of a max of ${prop('max-players', '20')} players online: ${names.join(', ')}`;
    }
    case 'save-all':
      await saveAll();
      return 'Saving the game (this may take a moment!)Saved the game';
    // As vanilla: save-off stops the autosave (save-all and stop still write), so a copy of the world
    // folder reads files nothing is writing; save-on starts it again. The answers are vanilla's.
    case 'save-off':
      if (!autosaving) return 'Saving is already turned off';
      autosaving = false;
      serv.overworld.stopSaving();
      await serv.overworld.finishedSaving;
      console.log('Automatic saving is now disabled');
      return 'Automatic saving is now disabled';
    case 'save-on':
      if (autosaving) return 'Saving is already turned on';
      autosaving = true;
      serv.overworld.startSaving();
      console.log('Automatic saving is now enabled');
      return 'Automatic saving is now enabled';
    case 'say':
      // Text from outside (OoD's warnings) is plain text: no colour codes read in it.
      serv.broadcast(plainComponent(`[Server] ${rest.join(' ')}`));
      logLine(`[Server] ${rest.join(' ')}`);
      return '';
    case 'stop':
      setImmediate(() => void stop());
      return 'Stopping the server';
    default:
      return (await serv.commands.use(command.replace(/^\//, ''), {}, true)) ?? '';
  }
}

// Set by OoD's local driver when its lobby holds the port until the game is about to listen (wake mode).
const handoverFile = process.env.OOD_PORT_HANDOVER;
const pluginsReady = new Promise<void>((resolve) => serv.once('pluginsReady', () => resolve()));
const handover = handoverFile
  ? new PortHandover(serv._server.socketServer, handoverFile, gamePort, gameHost, readyOrLate(pluginsReady.then(() => warmCodecs(serv._server.version))))
  : undefined;

/**
 * Compiles minecraft-protocol's packet codecs of the states a status ping and a login go through
 * (it compiles each on first use and keeps it): else the first connection pays for it, and in the
 * hand-over the first status ping after the lobby let go waited 0.8–1.7 s (measured) for the game.
 */
function warmCodecs(version: string): void {
  const { Client, states } = squidRequire('minecraft-protocol') as { Client: new (isServer: boolean, version: string) => { state: string }; states: Record<string, string> };
  const client = new Client(true, version);
  for (const state of [states.HANDSHAKING!, states.STATUS!, states.LOGIN!]) client.state = state;
}
serv.on('error', (err) => {
  if (!handover?.absorbs(err)) console.error(`Server error: ${err.message}`);
});
await serv.waitForReady(30_000);

if (prop('enable-rcon', 'false') === 'true') {
  const password = prop('rcon.password', '');
  if (!password) throw new Error('enable-rcon=true needs rcon.password in server.properties');
  // Like vanilla, RCON listens on `server-ip` when it is set; unlike vanilla (which then takes every
  // address), on loopback otherwise, so a test server is never reachable from outside by mistake.
  const rconHost = prop('server-ip', '127.0.0.1');
  await startRconServer({ host: rconHost, port: Number(prop('rcon.port', '25575')), password, handle: runCommand });
  console.log(`RCON running on ${rconHost}:${prop('rcon.port', '25575')}`);
}

const onSignal = () => void stop();
ownSignalHandlers.add(onSignal);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal);
const port = (serv._server.socketServer.address() as { port: number }).port;
console.log(`Done (${((Date.now() - started) / 1000).toFixed(3)}s)! Minecraft ${version} on port ${port}`);
