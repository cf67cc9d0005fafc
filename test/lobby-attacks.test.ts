import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { readdirSync } from 'node:fs';
import { DescriptorBudget } from '../controller/minecraft/lobby/descriptor-budget.js';
import { LobbyListener, type LobbyOptions } from '../controller/minecraft/lobby/lobby-listener.js';
import { joinBot, joinExpectingKick, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { freePort, makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs } from './helpers/web-client.js';

/**
 * Attacks on the lobby by one client or a few hundred loopback addresses (127.0.0.x bound as the local
 * address of client sockets): the caps in proxy mode, fairness under a full global cap, and the PROXY
 * protocol header the game sees. Every count and wait is bounded.
 */

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
const frame = (...body: number[]) => Buffer.from([...varint(body.length), ...body]);
const statusRequest = (port: number) => Buffer.concat([frame(0x00, ...varint(763), 9, ...Buffer.from('localhost'), port >> 8, port & 0xff, 1), frame(0x00)]);

async function startLobby(options: Partial<LobbyOptions>, route?: () => { host: string; port: number } | null, host = '127.0.0.1') {
  const lobby = new LobbyListener(
    {
      status: () => ({ motd: 'asleep', versionName: 'OoD', online: 0, max: 20 }),
      login: () => 'no',
      ...(route ? { route } : {}),
    },
    { host, port: 0, ...options },
  );
  await lobby.listen();
  opened.push({ close: () => lobby.closeAll() });
  return { lobby, port: lobby.address!.port };
}

/** A raw TCP "game": keeps what each connection sent. */
async function rawGame(host = '127.0.0.1') {
  const conns: { socket: Socket; received: Buffer[] }[] = [];
  const server: Server = createServer((socket) => {
    const received: Buffer[] = [];
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => received.push(chunk));
    conns.push({ socket, received });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  opened.push({
    close: () =>
      new Promise<void>((resolve) => {
        conns.forEach((c) => c.socket.destroy());
        server.close(() => resolve());
      }),
  });
  return { conns, target: { host, port: (server.address() as AddressInfo).port } };
}

/** Opens a connection and leaves it silent; resolves once it is connected (or refused). */
function silent(port: number, localAddress: string | undefined, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, localAddress }, () => resolve(socket));
    socket.on('error', () => resolve(socket));
    opened.push({ close: async () => void socket.destroy() });
  });
}

/** One status ping from `localAddress`: 'answered' when any byte came back, 'refused' when closed without one. */
function ping(port: number, localAddress: string): Promise<'answered' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(statusRequest(port)));
    const timer = setTimeout(() => socket.destroy(), 3_000);
    let got = false;
    socket.on('data', () => {
      got = true;
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got ? 'answered' : 'refused');
    });
  });
}

describe('caps in proxy mode', () => {
  it('counts proxied connections against the per-address and global caps; another address is still served', async () => {
    const game = await rawGame();
    const { lobby, port } = await startLobby({ maxConnectionsPerAddress: 8, maxConnections: 64 }, () => game.target);
    const flood = await Promise.all(Array.from({ length: 300 }, () => silent(port, '127.0.0.1')));
    // Refused ones are closed by the lobby; the rest stay open at the game.
    await waitUntil('the flood to settle', () => lobby.stats().accepted + lobby.stats().refused >= 300, 10_000);
    await waitUntil('the game to see the accepted ones', () => game.conns.length === lobby.proxied, 5_000);
    expect({ proxied: lobby.proxied, atGame: game.conns.length }).toEqual({ proxied: 8, atGame: 8 });
    expect(flood.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(8 + 5); // closing the rest may still be under way
    // Another address still reaches the game.
    await silent(port, '127.0.0.2');
    await waitUntil('the other address at the game', () => game.conns.length === 9, 5_000);
    expect(lobby.proxied).toBe(9);
  }, 30_000);

  it('keeps what all lobbies hold within the descriptor budget, leaving the rest of the process its reserve', async () => {
    const game = await rawGame();
    const descriptors = new DescriptorBudget(60);
    const lobbies = await Promise.all([0, 1].map(() => startLobby({ maxConnectionsPerAddress: 8, descriptors }, () => game.target)));
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    // 20 addresses × 8 connections to each of two lobbies: 320 attempts, 640 descriptors if all were held.
    for (let a = 0; a < 20; a++) for (const { port } of lobbies) await Promise.all(Array.from({ length: 8 }, () => silent(port, `127.0.1.${a + 1}`)));
    await waitUntil('the flood to settle', () => lobbies.reduce((n, { lobby }) => n + lobby.stats().accepted + lobby.stats().refused, 0) >= 320, 10_000);
    // Connections dropped to make room for a newer address are closed at the game too.
    await waitUntil('the game to hold what the lobbies hold', () => game.conns.filter((c) => !c.socket.destroyed).length === lobbies.reduce((n, { lobby }) => n + lobby.proxied, 0), 5_000);
    const held = lobbies.reduce((n, { lobby }) => n + lobby.proxied, 0);
    // The lobby's side of the flood: what the lobbies hold (client + game socket each); the rest of the
    // growth is this test's own client sockets and the raw game's.
    console.log(`descriptors: budget 60, lobbies hold ${descriptors.used} (${held} proxied), process went from ${before} to ${openFds()} open`);
    expect(descriptors.used).toBeLessThanOrEqual(60);
    expect(held * 2).toBe(descriptors.used);
  }, 30_000);
});

describe('PROXY protocol v2 to the game', () => {
  const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

  /** Parses the header by hand, as a game would: who the client is. */
  function parse(first: Buffer) {
    expect(first.subarray(0, 12).equals(SIGNATURE)).toBe(true);
    expect(first[12]).toBe(0x21); // version 2, PROXY
    const family = first[13];
    const length = first.readUInt16BE(14);
    const body = first.subarray(16, 16 + length);
    if (family === 0x11) return { family, length, address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8), rest: first.subarray(16 + length) };
    expect(family).toBe(0x21);
    const groups = Array.from({ length: 8 }, (_, i) => body.readUInt16BE(i * 2).toString(16));
    return { family, length, address: groups.join(':'), port: body.readUInt16BE(32), rest: first.subarray(16 + length) };
  }

  async function firstBytesAtGame(options: Partial<LobbyOptions>, host: string, localAddress: string | undefined) {
    const game = await rawGame();
    const { port } = await startLobby(options, () => game.target, host);
    const client = await silent(port, localAddress, host);
    client.write('hello game');
    await waitUntil('the game to get bytes', () => game.conns.length === 1, 5_000);
    // The header and the client's bytes may arrive in one read or two.
    const first = await waitUntil('the client\'s bytes at the game', () => {
      const bytes = Buffer.concat(game.conns[0]!.received);
      return bytes.toString('latin1').endsWith('hello game') && bytes;
    }, 5_000);
    return { first, client };
  }

  it('tells the game the real IPv4 address and port of the client', async () => {
    const { first, client } = await firstBytesAtGame({ proxyProtocol: true }, '127.0.0.1', '127.0.0.5');
    const header = parse(first);
    expect(header).toMatchObject({ family: 0x11, length: 12, address: '127.0.0.5', port: client.localPort });
    expect(header.rest.toString()).toBe('hello game');
  });

  it('tells the game the real IPv6 address and port of the client', async () => {
    const { first, client } = await firstBytesAtGame({ proxyProtocol: true }, '::1', undefined);
    const header = parse(first);
    expect(header).toMatchObject({ family: 0x21, length: 36, address: '0:0:0:0:0:0:0:1', port: client.localPort });
    expect(header.rest.toString()).toBe('hello game');
  });

  it('sends no header when it is off (the default)', async () => {
    const { first } = await firstBytesAtGame({}, '127.0.0.1', '127.0.0.5');
    expect(first.toString()).toBe('hello game');
  });
});

describe('fairness under a full global cap', () => {
  it('still answers a new address while 6 addresses hold 8 silent connections each', async () => {
    const { lobby, port } = await startLobby({ maxConnectionsPerAddress: 8, maxConnections: 40, handshakeTimeoutMs: 30_000, connectionTimeoutMs: 30_000 });
    const addresses = Array.from({ length: 6 }, (_, i) => `127.0.0.${10 + i}`);
    for (const address of addresses) await Promise.all(Array.from({ length: 8 }, () => silent(port, address)));
    await waitUntil('the flood to settle', () => lobby.stats().accepted + lobby.stats().refused >= 48, 5_000);
    expect(lobby.connections).toBe(40);
    const results: string[] = [];
    for (let i = 0; i < 10; i++) results.push(await ping(port, '127.0.0.2'));
    const answered = results.filter((r) => r === 'answered').length;
    console.log(`fairness: a real client under the flood got ${answered} status answers and ${10 - answered} refusals of 10`);
    expect(answered).toBe(10);
    // The flood still holds no more than the cap.
    expect(lobby.connections).toBeLessThanOrEqual(40);
  }, 30_000);
});

describe('wake protections: a cool-down after a wake nobody joined, and wakes only from web addresses', () => {
  let home: OodHome;
  let serving: Serving | undefined;
  const phase = () => serving!.controller.store.servers.get('world')!.phase;
  const outcomes = () => serving!.controller.store.audit.forServer('world').filter((a) => a.action === 'wake outcome');
  const upAndDown = async () => {
    await waitUntil('running', () => phase() === 'running', 60_000, 100);
    serving!.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
    await waitUntil('the lobby to take the port back', () => serving!.controller.lobby('world')!.listening, 10_000);
  };

  beforeAll(async () => {
    home = await makeOodHome({ server: { lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Alex_1', 'Bea_2'] } } });
    serving = await serveInProcess(home.configPath);
    await waitUntil('the lobby to listen', () => serving!.controller.lobby('world')!.listening, 10_000);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('records that nobody joined, then refuses wakes from that address, by any name, across a restart', async () => {
    // A 1.20.1 client: it is told to join again (a 1.20.5+ one waits in the waiting room instead).
    expect(await joinExpectingKick(home.gamePort, 'Alex_1', '1.20.1')).toMatch(/^Starting world/);
    await upAndDown();
    await waitUntil('the outcome row', () => outcomes().length === 1, 5_000);
    expect(outcomes()[0]).toMatchObject({ actor: 'minecraft:Alex_1', source: '127.0.0.1', detail: 'nobody joined' });

    const coolDown = /^A wake of world from this address ended 1 min ago with nobody joining; it can be woken again in 30 min, or started on OoD's web page$/;
    expect(await joinExpectingKick(home.gamePort, 'Alex_1')).toMatch(coolDown);
    // Another name, or the name in other letters, from the same address: the address cools down.
    expect(await joinExpectingKick(home.gamePort, 'ALEX_1')).toMatch(coolDown);
    expect(await joinExpectingKick(home.gamePort, 'Bea_2')).toMatch(coolDown);
    expect(serving!.controller.store.servers.get('world')!.desired).toBe('down');

    // The cool-down is read from the store: a restarted controller keeps it.
    await serving!.close();
    serving = await serveInProcess(home.configPath);
    await waitUntil('the lobby to listen again', () => serving!.controller.lobby('world')!.listening, 10_000);
    expect(await joinExpectingKick(home.gamePort, 'Alex_1')).toMatch(coolDown);
    expect(serving.controller.store.servers.get('world')!.desired).toBe('down');
  }, 180_000);
});

describe('wakeFrom: web-addresses', () => {
  let home: OodHome;
  let serving: Serving;
  const phase = () => serving.controller.store.servers.get('world')!.phase;

  beforeAll(async () => {
    home = await makeOodHome({ server: { lobby: { mode: 'wake', host: '127.0.0.1', wakers: ['Cleo_3'], wakeFrom: 'web-addresses' } } });
    serving = await serveInProcess(home.configPath);
    await waitUntil('the lobby to listen', () => serving.controller.lobby('world')!.listening, 10_000);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  const refused = /^world wakes only from addresses where someone who may start it logged into OoD's web pages/;

  it('does not open for a login by a stranger who is not on the list, nor by a listed person who may not start', async () => {
    await loginAs(serving, 'github:99'); // any account at a configured provider can finish a login
    expect(await joinExpectingKick(home.gamePort, 'Cleo_3')).toMatch(refused);
    serving.controller.store.people.put('github:98', ['stop'], 'test', Date.now());
    await loginAs(serving, 'github:98');
    expect(await joinExpectingKick(home.gamePort, 'Cleo_3')).toMatch(refused);
    expect(serving.controller.store.servers.get('world')!.desired).toBe('down');
  }, 60_000);

  it('wakes only from an address where a listed person who may start logged into the web pages, and records who joined', async () => {
    expect(await joinExpectingKick(home.gamePort, 'Cleo_3')).toMatch(refused);
    expect(serving.controller.store.servers.get('world')!.desired).toBe('down');

    serving.controller.store.people.put('github:77', ['start'], 'test', Date.now());
    await loginAs(serving, 'github:77'); // from 127.0.0.1: a login row in the audit table
    expect(await joinExpectingKick(home.gamePort, 'Cleo_3', '1.20.1')).toMatch(/^Starting world/);
    await waitUntil('running', () => phase() === 'running', 60_000, 100);
    const bot = await joinBot(home.gamePort, 'Cleo_3');
    const outcome = await waitUntil('the outcome row', () => serving.controller.store.audit.forServer('world').find((a) => a.action === 'wake outcome'), 15_000);
    expect(outcome).toMatchObject({ actor: 'minecraft:Cleo_3', source: '127.0.0.1', detail: 'players joined: Cleo_3' });
    await leave(bot);
    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => phase() === 'archived', 60_000, 100);
    await waitUntil('the lobby to take the port back', () => serving.controller.lobby('world')!.listening, 10_000);
    // Somebody joined: no cool-down.
    expect(await joinExpectingKick(home.gamePort, 'Cleo_3', '1.20.1')).toMatch(/^Starting world/);
    expect(serving.controller.store.audit.forServer('world').filter((a) => a.action === 'wake outcome')).toHaveLength(1);
  }, 180_000);
});

describe('a proxied flood against the whole controller', () => {
  let home: OodHome;
  let serving: Serving;

  beforeAll(async () => {
    home = await makeOodHome({ server: { lobby: { mode: 'proxy', host: '127.0.0.1', gamePort: await freePort() } } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('holds 8 connections of one address, while another address and /healthz are still served', async () => {
    serving.controller.want('world', 'up', { actor: 'test', source: 'test' });
    await waitUntil('running', () => serving.controller.view('world').observation?.game === 'answering' && serving.controller.store.servers.get('world')!.phase === 'running', 60_000, 100);
    const lobby = serving.controller.lobby('world')!;
    await Promise.all(Array.from({ length: 300 }, () => silent(home.gamePort, '127.0.0.1')));
    await waitUntil('the flood to settle', () => lobby.stats().accepted + lobby.stats().refused >= 300, 10_000);
    expect(lobby.proxied).toBe(8);
    expect(lobby.stats().refused).toBe(292);
    expect(await ping(home.gamePort, '127.0.0.2')).toBe('answered'); // the game's own status answer
    const health = await fetch(`${serving.url}/healthz`, { signal: AbortSignal.timeout(3_000) });
    expect(health.status).toBe(200);
  }, 120_000);
});
