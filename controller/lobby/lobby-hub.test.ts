import mc from 'minecraft-protocol';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exchange, frame, handshake, rawLoginRefusal, rawMotd } from '../../test/helpers/raw-minecraft.js';
import { freePort } from '../../test/helpers/ood-home.js';
import { waitUntil } from '../../test/helpers/wait.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import type { LobbyHandlers, LobbyStatus, LoginAttempt } from '../minecraft/lobby/types.js';
import { openLobbyHub, type LobbyHub } from './lobby-hub.js';

/**
 * The shared lobby with a real listener on 127.0.0.1 and stand-in handlers per server: each name
 * reaches its server, unknown names get the list (or the default), and a proxy-mode server gets the
 * connection after the handshake with every byte replayed. The games are in test/lobby-hostnames.test.ts.
 */

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

interface Stand {
  handlers: LobbyHandlers;
  logins: LoginAttempt[];
}

function stand(id: string, route?: () => { host: string; port: number } | null, proxyProtocol = false): Stand {
  const logins: LoginAttempt[] = [];
  const status: LobbyStatus = { motd: `${id}: asleep — join to wake it`, versionName: 'OoD', online: 0, max: 0 };
  return { logins, handlers: { status: () => status, login: (attempt) => (logins.push(attempt), `Starting ${id}`), ...(route ? { route, proxyProtocol } : {}) } };
}

const server = (id: string, port: number, lobby: Record<string, unknown>) => ({ id, game: { port, rconPort: port + 1 }, lobby: { mode: 'wake', ...lobby } });

async function startHub(servers: Record<string, unknown>[], stands: Record<string, Stand>): Promise<{ hub: LobbyHub; port: number }> {
  const config = parseConfig({ lobby: { listen: `127.0.0.1:${await freePort()}` }, servers }, '/base');
  const hub = openLobbyHub(config, new Map(Object.entries(stands).map(([id, s]) => [id, s.handlers])), silentLogger)!;
  opened.push(hub);
  hub.start();
  await waitUntil('the shared lobby to listen', () => hub.listening, 5_000);
  return { hub, port: hub.address!.port };
}

/** A game stand-in: records every byte each connection sends and answers "game here". */
async function recordingGame(): Promise<{ port: number; received: Buffer[] }> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const game: Server = createServer((socket) => {
    sockets.add(socket);
    const chunks: Buffer[] = [];
    const index = received.push(Buffer.alloc(0)) - 1;
    socket.on('data', (c) => {
      chunks.push(c);
      received[index] = Buffer.concat(chunks);
      if (received[index].includes(Buffer.from('END'))) socket.end('game here');
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => game.listen(0, '127.0.0.1', resolve));
  opened.push({ close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), game.close(() => resolve()))) });
  return { port: (game.address() as AddressInfo).port, received };
}

/** mc.ping naming `host` in its handshake while connecting to 127.0.0.1. */
const pingAs = async (port: number, host: string) => {
  const answer = (await mc.ping({ host, port, version: '1.21.4', connect: (client: mc.Client) => client.setSocket(connect(port, '127.0.0.1')) } as mc.PingOptions)) as mc.NewPingResult;
  return JSON.stringify(answer.description);
};

describe('the shared lobby', () => {
  it('answers each name with its server, whatever the case, a trailing dot or a Forge suffix', async () => {
    const stands = { survival: stand('survival'), creative: stand('creative') };
    const { port } = await startHub([server('survival', 30001, { hostnames: ['survival.mc.test', 'mc.test'] }), server('creative', 30003, { hostnames: ['creative.mc.test'] })], stands);
    expect(await pingAs(port, 'survival.mc.test')).toContain('survival: asleep');
    expect(await pingAs(port, 'creative.mc.test')).toContain('creative: asleep');
    expect(await pingAs(port, 'MC.Test.')).toContain('survival: asleep');
    expect(await rawMotd(port, 'creative.mc.test\0FML2\0')).toContain('creative: asleep');
    expect(await rawMotd(port, 'Creative.MC.test.\0FML\0')).toContain('creative: asleep');

    expect(await rawLoginRefusal(port, 'creative.mc.test.', 'Alex')).toContain('Starting creative');
    expect(stands.creative.logins.map((l) => l.name)).toEqual(['Alex']);
    expect(stands.survival.logins).toEqual([]);
  });

  it('gives an unknown name the list of names, in status and at login, and wakes nothing', async () => {
    const stands = { survival: stand('survival'), creative: stand('creative') };
    const { port } = await startHub([server('survival', 30001, { hostnames: ['survival.mc.test', 'mc.test'] }), server('creative', 30003, { hostnames: ['creative.mc.test'] })], stands);
    expect(await pingAs(port, 'nothing.mc.test')).toBe(JSON.stringify({ text: 'No server by that name here: join survival.mc.test, creative.mc.test' }));
    expect(await rawMotd(port, '127.0.0.1')).toContain('join survival.mc.test, creative.mc.test');
    expect(await rawLoginRefusal(port, 'nothing.mc.test', 'Alex')).toBe(JSON.stringify({ text: 'This address names no server here. Join one of: survival.mc.test, creative.mc.test' }));
    expect(stands.survival.logins).toEqual([]);
    expect(stands.creative.logins).toEqual([]);
    // A legacy ping names no host: it gets the list too.
    const legacy = await exchange(port, Buffer.from([0xfe, 0x01]));
    expect(Buffer.from(legacy.subarray(3)).swap16().toString('utf16le')).toContain('join survival.mc.test, creative.mc.test');
  });

  it('gives unknown names and legacy pings the default server', async () => {
    const stands = { survival: stand('survival'), creative: stand('creative') };
    const { port } = await startHub([server('survival', 30001, { hostnames: ['survival.mc.test'] }), server('creative', 30003, { default: true })], stands);
    expect(await pingAs(port, 'survival.mc.test')).toContain('survival: asleep');
    expect(await pingAs(port, 'anything.example')).toContain('creative: asleep');
    const legacy = await exchange(port, Buffer.from([0xfe, 0x01]));
    expect(Buffer.from(legacy.subarray(3)).swap16().toString('utf16le')).toContain('creative: asleep');
  });

  it('forwards a proxy-mode server after the handshake, replaying what was read, split or not', async () => {
    const game = await recordingGame();
    let up = true;
    const stands = { survival: stand('survival'), creative: stand('creative', () => (up ? { host: '127.0.0.1', port: game.port } : null)) };
    const { hub, port } = await startHub([server('survival', 30001, { hostnames: ['survival.mc.test'] }), server('creative', 30003, { mode: 'proxy', gamePort: 30005, hostnames: ['creative.mc.test'] })], stands);

    // Handshake and more in one write: the game gets every byte, in order.
    const sent = Buffer.concat([handshake('creative.mc.test', 2), Buffer.from('some login bytes END')]);
    expect((await exchange(port, sent)).toString()).toBe('game here');
    expect(game.received[0]).toEqual(sent);

    // The handshake split over several writes, and more after the hand-over: all of it, once.
    const split = [handshake('Creative.mc.test.', 1).subarray(0, 3), handshake('Creative.mc.test.', 1).subarray(3), frame(0x00), Buffer.from('END')];
    expect((await exchange(port, split)).toString()).toBe('game here');
    expect(game.received[1]).toEqual(Buffer.concat(split));
    await waitUntil('the forwarded connections to close', () => hub.proxied === 0, 5_000);

    // Another name on the same listener is still the lobby's; and a proxy server whose game is down too.
    expect(await rawMotd(port, 'survival.mc.test')).toContain('survival: asleep');
    up = false;
    expect(await rawMotd(port, 'creative.mc.test')).toContain('creative: asleep');
    expect(game.received).toHaveLength(2);
  });

  it('sends the PROXY v2 header first for a server that asks for it', async () => {
    const game = await recordingGame();
    const stands = { creative: stand('creative', () => ({ host: '127.0.0.1', port: game.port }), true) };
    const { port } = await startHub([server('creative', 30003, { mode: 'proxy', gamePort: 30005, proxyProtocol: true, hostnames: ['creative.mc.test'] })], stands);
    const sent = Buffer.concat([handshake('creative.mc.test', 2), Buffer.from('END')]);
    await exchange(port, sent);
    const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
    expect(game.received[0]!.subarray(0, 12)).toEqual(signature);
    // Header (16 bytes + 12 of IPv4 addresses and ports), then the client's bytes unchanged.
    expect(game.received[0]!.subarray(28)).toEqual(sent);
  });

  it('survives random bytes after a handshake naming a proxied server, split anywhere, and keeps no connection', async () => {
    const game = await recordingGame();
    const stands = { survival: stand('survival'), creative: stand('creative', () => ({ host: '127.0.0.1', port: game.port })) };
    const { hub, port } = await startHub([server('survival', 30001, { hostnames: ['survival.mc.test'] }), server('creative', 30003, { mode: 'proxy', gamePort: 30005, hostnames: ['creative.mc.test'] })], stands);
    let seed = 20;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648), seed % n);
    const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => random(256)));
    const tries = Array.from({ length: 200 }, (_, i) => {
      const name = ['creative.mc.test', 'survival.mc.test', 'Creative.MC.test.\0FML2\0', junk(12).toString('latin1')][i % 4]!;
      // What follows the handshake: a frame of random bytes (as a client's next packet is framed) or
      // raw junk, which the lobby may refuse to frame when it comes in the handshake's chunk.
      const tail = random(2) === 0 ? frame(random(128), ...junk(random(300))) : junk(random(300));
      const whole = Buffer.concat([handshake(name, 1 + random(3), random(1_000)), tail, Buffer.from('END')]);
      const cut = random(whole.length);
      // Some only junk, some a handshake cut in two writes.
      return i % 5 === 0 ? [junk(1 + random(64))] : [whole.subarray(0, cut), whole.subarray(cut)];
    });
    // Eight at a time, the lobby's cap per address; each client hangs up after its bytes.
    for (let i = 0; i < tries.length; i += 8) await Promise.all(tries.slice(i, i + 8).map((parts) => exchange(port, parts, { end: true })));
    await waitUntil('every connection to close', () => hub.proxied === 0 && hub.connections === 0, 10_000);
    // Every forwarded connection got its bytes in order, the handshake first.
    for (const bytes of game.received) expect(bytes.subarray(-3).toString()).toBe('END');
    expect(game.received.length).toBeGreaterThan(20);
    expect(hub.stats()).toMatchObject({ accepted: 200, refused: 0, dropped: 0 });
    expect(await rawMotd(port, 'survival.mc.test')).toContain('survival: asleep');
  });

  it('keeps trying to listen while its port is taken, and listens once it is free', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    const config = parseConfig({ lobby: { listen: `127.0.0.1:${port}` }, servers: [server('survival', 30001, { hostnames: ['survival.mc.test'] })] }, '/base');
    const hub = openLobbyHub(config, new Map([['survival', stand('survival').handlers]]), silentLogger)!;
    opened.push(hub);
    hub.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hub.listening).toBe(false);
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    await waitUntil('the shared lobby to listen', () => hub.listening, 5_000);
    expect(await rawMotd(port, 'survival.mc.test')).toContain('survival: asleep');
  });
});
