/**
 * OoD's test Minecraft server: flying-squid (a real Minecraft-protocol server) with what OoD needs of
 * a vanilla server and flying-squid lacks: it reads `server.properties` in its working directory,
 * answers RCON (`list` in vanilla wording, `save-all` that waits for the save, `say`, `stop`), and
 * saves the world before it exits on `stop`, SIGTERM or SIGINT.
 *
 * Run it in the server's working directory: `node --import tsx test/mc-server/main.ts`.
 * `npm start` uses it as the embedded default's game so no download from Mojang is needed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseProperties } from '../../controller/minecraft/properties.js';
import { startRconServer } from './rcon-server.js';

interface Player {
  username: string;
  save(): Promise<void>;
}
interface World {
  storageProvider: { save(chunkX: number, chunkZ: number, column: unknown): Promise<void> } | null;
  getColumns(): { chunkX: string; chunkZ: string; column: unknown }[];
  waitSaving(): Promise<void>;
}
interface FlyingSquid {
  players: Player[];
  overworld: World;
  broadcast(message: string): void;
  quit(reason?: string): Promise<void>;
  commands: { use(command: string, ctx: object, op: boolean): Promise<string | undefined> };
  on(event: 'listening', cb: () => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  waitForReady(timeout: number): Promise<unknown>;
  _server: { socketServer: { address(): { port: number } } };
}

const require = createRequire(import.meta.url);
const { createMCServer } = require('flying-squid') as { createMCServer(options: object): FlyingSquid };

const started = Date.now();
const props = parseProperties(existsSync('server.properties') ? readFileSync('server.properties', 'utf8') : '');
const prop = (key: string, fallback: string) => props.get(key) || fallback;
const version = prop('ood-test-version', '1.21.4');

const serv = createMCServer({
  port: Number(prop('server-port', '25565')),
  host: prop('server-ip', '') || undefined,
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

/**
 * Writes every loaded chunk, then lets the world's own save queue drain. Not just `waitSaving()`:
 * prismarine-world's `saveNow` clears its queue after awaiting the writes, so a chunk changed during
 * an autosave is dropped from the queue unsaved, and `waitSaving()` then reports an empty queue.
 * Seen as a lost /setblock in OoD's life-cycle test on a loaded machine. Each chunk's data is taken
 * when its save is called, so these writes hold the current state, and the region file's own
 * write queue puts them after any older autosave write.
 */
async function saveAll(): Promise<void> {
  await Promise.all(serv.players.map((p) => p.save()));
  const world = serv.overworld;
  if (world.storageProvider) {
    const provider = world.storageProvider;
    await Promise.all(world.getColumns().map(({ chunkX, chunkZ, column }) => provider.save(Number(chunkX), Number(chunkZ), column)));
  }
  await world.waitSaving();
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
    case 'say':
      serv.broadcast(`[Server] ${rest.join(' ')}`);
      return '';
    case 'stop':
      setImmediate(() => void stop());
      return 'Stopping the server';
    default:
      return (await serv.commands.use(command.replace(/^\//, ''), {}, true)) ?? '';
  }
}

serv.on('error', (err) => console.error(`Server error: ${err.message}`));
await serv.waitForReady(30_000);

if (prop('enable-rcon', 'false') === 'true') {
  const password = prop('rcon.password', '');
  if (!password) throw new Error('enable-rcon=true needs rcon.password in server.properties');
  await startRconServer({ host: '127.0.0.1', port: Number(prop('rcon.port', '25575')), password, handle: runCommand });
  console.log(`RCON running on 127.0.0.1:${prop('rcon.port', '25575')}`);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop());
const port = serv._server.socketServer.address().port;
console.log(`Done (${((Date.now() - started) / 1000).toFixed(3)}s)! Minecraft ${version} on port ${port}`);
