import mc from 'minecraft-protocol';
import nbt from 'prismarine-nbt';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LobbyListener, type LobbyOptions } from '../controller/minecraft/lobby/lobby-listener.js';
import type { LoginAttempt, LoginAnswer } from '../controller/minecraft/lobby/types.js';
import { reasonText } from './helpers/bot.js';
import { arrivals, controlledHold, frame, handshake, packetReader, str, type ControlledHold } from './helpers/held-login.js';
import { waitUntil } from './helpers/wait.js';

/**
 * The waiting room's protocol against real minecraft-protocol clients on 127.0.0.1: a held client
 * stays connected through keep-alives, is transferred (and reconnects with handshake intent 3) or
 * kicked with the reason; the listener's release() and close() leave held clients alone.
 */

const HOST = '127.0.0.1';
const KEEP_ALIVE_MS = 200;
const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

/** Awaits `promise`, or fails naming `what` after `ms`: a hang says where it hung. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A lobby whose login() holds every holdable attempt; `holds` are the holds it gave out, in order. */
async function startLobby(options: Partial<LobbyOptions> = {}, answer?: (attempt: LoginAttempt, hold: ControlledHold) => LoginAnswer) {
  const attempts: LoginAttempt[] = [];
  const holds: ControlledHold[] = [];
  const lobby = new LobbyListener(
    {
      status: () => ({ motd: 'Survival is asleep', versionName: 'OoD', online: 0, max: 20 }),
      login: (attempt) => {
        attempts.push(attempt);
        const held = controlledHold();
        holds.push(held);
        return answer ? answer(attempt, held) : { hold: held.hold };
      },
    },
    { host: HOST, port: 0, keepAliveMs: KEEP_ALIVE_MS, ...options },
  );
  await lobby.listen();
  opened.push({ close: () => lobby.closeAll() });
  return { lobby, port: lobby.address!.port, attempts, holds };
}

/** A minecraft-protocol client and what the lobby made of it. */
function join(port: number, version: string, username: string, options: { keepAlive?: boolean } = {}) {
  const client = mc.createClient({ host: HOST, port, username, version, auth: 'offline', hideErrors: true, ...options });
  let keepAlives = 0;
  const dialogs: unknown[] = [];
  client.on('packet', (data: { dialog?: nbt.NBT }, meta: { name: string }) => {
    if (meta.name === 'keep_alive') keepAlives++;
    if (meta.name === 'show_dialog') dialogs.push(nbt.simplify(data.dialog!));
  });
  client.on('error', () => {}); // a closed socket is what the tests look at
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  const transfer = new Promise<{ host: string; port: number }>((resolve) => client.once('transfer', (packet: { host: string; port: number }) => resolve(packet)));
  // Disconnect in the configuration state; a login-state kick arrives as 'disconnect' too.
  const kicked = new Promise<string>((resolve) => client.once('disconnect', (packet: { reason: unknown }) => resolve(reasonText(packet.reason))));
  const loggedIn = new Promise<{ uuid: string; username: string }>((resolve) => client.once('success', (packet: { uuid: string; username: string }) => resolve(packet)));
  opened.push({ close: async () => client.end() });
  return {
    client,
    ended,
    transfer,
    kicked,
    loggedIn,
    dialogs,
    get keepAlives() {
      return keepAlives;
    },
  };
}

/** Reconnects the way a transferred vanilla client does: the same version and name, handshake intent 3. */
function reconnectAsTransferred(target: { host: string; port: number }, version: string, username: string) {
  const client = mc.createClient({ host: target.host, port: target.port, username, version, auth: 'offline', hideErrors: true });
  const write = client.write.bind(client);
  client.write = (name: string, params: object) => write(name, name === 'set_protocol' ? { ...params, nextState: 3 } : params);
  client.on('error', () => {});
  opened.push({ close: async () => client.end() });
  return new Promise<string>((resolve) => client.once('disconnect', (packet: { reason: unknown }) => resolve(reasonText(packet.reason))));
}

describe('waiting room: held, then transferred', () => {
  it.each([
    ['1.20.6', 766],
    ['1.21.4', 769],
    ['1.21.11', 774],
  ] as const)('holds a %s client through keep-alives, transfers it, and it reconnects with intent 3', async (version, protocol) => {
    const game = await arrivals();
    opened.push(game);
    // Short enough to pass during the hold, long enough for a client's first login on a busy machine.
    const { lobby, port, attempts, holds } = await startLobby({ connectionTimeoutMs: 1_500 });
    const player = join(port, version, 'Waiter');

    // The login completes offline-style: vanilla's offline UUID for the name.
    expect(await within(player.loggedIn, 'Login Success')).toMatchObject({ uuid: 'fa552624-3d2c-3c29-9574-4beb7d494c16', username: 'Waiter' });
    expect(attempts).toEqual([{ name: 'Waiter', address: HOST, protocol, holdable: true }]);
    // Held well past connectionTimeoutMs, answering every keep-alive.
    await waitUntil('ten keep-alives', () => player.keepAlives >= 10, 10_000);
    expect(lobby.stats()).toMatchObject({ held: 1, transferred: 0, closedOnError: 0 });

    holds[0]!.settle({ transfer: { host: HOST, port: game.port } });
    expect(await within(player.transfer, 'the transfer')).toEqual({ host: HOST, port: game.port });
    await within(player.ended, 'the end of the held connection');
    await waitUntil('the lobby let go', () => lobby.connections === 0, 5_000);
    expect(lobby.stats()).toMatchObject({ held: 0, transferred: 1, closedOnError: 0 });
    expect(holds[0]!.abandoned).toBe(0);

    expect(await within(reconnectAsTransferred({ host: HOST, port: game.port }, version, 'Waiter'), 'the reconnection')).toBe('Welcome');
    expect(game.seen).toEqual([{ protocol, host: HOST, port: game.port, intent: 3, name: 'Waiter' }]);
  }, 30_000);

  it('sends the outcome right after Login Acknowledged when it settled before', async () => {
    const game = await arrivals();
    opened.push(game);
    const { port } = await startLobby({}, (_attempt, held) => {
      held.settle({ transfer: { host: HOST, port: game.port } });
      return { hold: held.hold };
    });
    const player = join(port, '1.21.4', 'Early');
    expect(await player.transfer).toEqual({ host: HOST, port: game.port });
  });
});

describe('waiting room: what a held client is shown', () => {
  it('shows a 1.21.6+ client the hold text in a notice dialog, again when it changes; a 1.21.4 client none', async () => {
    const { lobby, port, holds } = await startLobby();
    const newer = join(port, '1.21.11', 'Newer');
    const older = join(port, '1.21.4', 'Older');
    await waitUntil('the first dialog', () => newer.dialogs.length === 1, 5_000);
    expect(newer.dialogs[0]).toMatchObject({ type: 'minecraft:notice', title: 'Starting survival — ready in about 40 s', body: { type: 'minecraft:plain_message' } });
    holds[0]!.setText('Starting survival — ready in about 20 s');
    holds[1]!.setText('Starting survival — ready in about 20 s');
    await waitUntil('the second dialog', () => newer.dialogs.length === 2, 5_000);
    expect(newer.dialogs[1]).toMatchObject({ title: 'Starting survival — ready in about 20 s' });
    // Unchanged text is not sent again.
    const keepAlives = newer.keepAlives;
    await waitUntil('three more keep-alives', () => newer.keepAlives >= keepAlives + 3, 5_000);
    expect(newer.dialogs).toHaveLength(2);
    expect(older.keepAlives).toBeGreaterThan(2);
    expect(older.dialogs).toEqual([]);
    expect(lobby.stats()).toMatchObject({ held: 2, closedOnError: 0 });
  });
});

describe('waiting room: let go', () => {
  it('keeps a held client that sends a large plugin message in the configuration state (a modded client’s channel list)', async () => {
    const game = await arrivals();
    opened.push(game);
    const { lobby, port, holds } = await startLobby();
    const player = join(port, '1.21.4', 'Modded');
    await waitUntil('held', () => lobby.stats().held === 1 && player.keepAlives >= 1, 5_000);
    // Fabric and Forge announce their channels in minecraft:register; a big mod pack's list is several KB.
    const channels = Array.from({ length: 400 }, (_, i) => `somemod${i}:channel`).join('\0');
    player.client.write('custom_payload', { channel: 'minecraft:register', data: Buffer.from(channels) });
    const before = player.keepAlives;
    await waitUntil('two more keep-alives', () => player.keepAlives >= before + 2, 5_000);
    expect(lobby.stats()).toMatchObject({ held: 1, closedOnError: 0 });
    holds[0]!.settle({ transfer: { host: HOST, port: game.port } });
    expect(await within(player.transfer, 'the transfer')).toEqual({ host: HOST, port: game.port });
  });

  it('kicks a held client with the reason when the outcome is a kick', async () => {
    const { lobby, port, holds } = await startLobby();
    const player = join(port, '1.21.4', 'Unlucky');
    await waitUntil('held', () => lobby.stats().held === 1 && player.keepAlives >= 1, 5_000);
    holds[0]!.settle({ kick: 'Survival could not start: the world is damaged. Ask an admin.' });
    expect(await player.kicked).toBe('Survival could not start: the world is damaged. Ask an admin.');
    await player.ended;
    expect(lobby.stats()).toMatchObject({ held: 0, transferred: 0 });
    expect(holds[0]!.abandoned).toBe(0);
  });

  it('closes a client that stops answering keep-alives, and abandons its hold once', async () => {
    const { lobby, port, holds } = await startLobby();
    const player = join(port, '1.21.4', 'Silent', { keepAlive: false });
    await player.loggedIn;
    const started = Date.now();
    await player.ended;
    // Three unanswered intervals, give or take one.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * KEEP_ALIVE_MS);
    expect(Date.now() - started).toBeLessThan(6 * KEEP_ALIVE_MS);
    await waitUntil('abandoned', () => holds[0]!.abandoned === 1, 2_000);
    expect(lobby.stats()).toMatchObject({ held: 0, closedOnError: 1 });
  });

  it('abandons the hold once when the client leaves, and ignores an outcome after', async () => {
    const { lobby, port, holds } = await startLobby();
    const player = join(port, '1.21.4', 'Leaver');
    await waitUntil('held', () => player.keepAlives >= 1, 5_000);
    player.client.end();
    await waitUntil('abandoned', () => holds[0]!.abandoned === 1, 2_000);
    await waitUntil('let go', () => lobby.connections === 0, 2_000);
    holds[0]!.settle({ transfer: { host: HOST, port: 1 } });
    await new Promise((r) => setTimeout(r, 100));
    expect(holds[0]!.abandoned).toBe(1);
    expect(lobby.stats()).toMatchObject({ held: 0, transferred: 0 });
  });

  it('disconnects a client held past maxHoldMs with a reason, and abandons its hold', async () => {
    const { lobby, port, holds } = await startLobby({ maxHoldMs: 700 });
    const player = join(port, '1.21.4', 'Patient');
    expect(await player.kicked).toMatch(/took too long to start/);
    expect(holds[0]!.abandoned).toBe(1);
    await player.ended;
    expect(lobby.stats().held).toBe(0);
  });

  it('keeps held clients through release() and close(); closeAll() ends them', async () => {
    const game = await arrivals();
    opened.push(game);
    const { lobby, port, holds } = await startLobby();
    const first = join(port, '1.21.4', 'First');
    const second = join(port, '1.21.4', 'Second');
    await waitUntil('both held', () => lobby.stats().held === 2, 5_000);

    lobby.release(50); // the local driver hands the port to the game
    expect(lobby.listening).toBe(false);
    const before = first.keepAlives;
    await new Promise((r) => setTimeout(r, 4 * KEEP_ALIVE_MS));
    expect(first.keepAlives).toBeGreaterThan(before);
    expect(lobby.connections).toBe(2);
    // The game answered: the first is sent to it.
    holds[0]!.settle({ transfer: { host: HOST, port: game.port } });
    expect(await first.transfer).toEqual({ host: HOST, port: game.port });

    await lobby.close();
    await new Promise((r) => setTimeout(r, 2 * KEEP_ALIVE_MS));
    expect(lobby.stats().held).toBe(1);
    await lobby.closeAll();
    await second.ended;
    expect(holds[1]!.abandoned).toBe(1);
    expect(lobby.connections).toBe(0);
  });

  it('counts held clients against the per-address cap', async () => {
    const { lobby, port } = await startLobby({ maxConnectionsPerAddress: 2 });
    join(port, '1.21.4', 'One');
    join(port, '1.21.4', 'Two');
    await waitUntil('both held', () => lobby.stats().held === 2, 5_000);
    const third = join(port, '1.21.4', 'Three');
    await third.ended;
    expect(lobby.stats()).toMatchObject({ held: 2, refused: 1 });
  });
});

describe('waiting room: fairness', () => {
  it('drops a held client of the address holding the most for a newcomer when the lobby is full, abandoning its hold', async () => {
    const { lobby, port, holds } = await startLobby({ maxConnections: 3 });
    const players = ['Many1', 'Many2', 'Many3'].map((name) => join(port, '1.21.4', name));
    await waitUntil('three held', () => lobby.stats().held === 3, 10_000);
    // A newcomer from another address (127.0.0.2 is loopback too).
    const newcomer = connect({ host: HOST, port, localAddress: '127.0.0.2' });
    newcomer.on('error', () => {});
    opened.push({ close: async () => void newcomer.destroy() });
    await within(Promise.race(players.map((p) => p.ended)), 'one held client dropped');
    await waitUntil('its hold abandoned', () => holds.filter((h) => h.abandoned === 1).length === 1, 2_000);
    expect(lobby.stats()).toMatchObject({ dropped: 1, held: 2, refused: 0 });
    expect(newcomer.destroyed).toBe(false);
  });
});

describe('waiting room: clients the table does not know are kicked with the text', () => {
  it('kicks a 1.12.2 client with the hold text and abandons the hold', async () => {
    const { port, attempts, holds } = await startLobby();
    const player = join(port, '1.12.2', 'Oldtimer');
    const kicked = await new Promise<string>((resolve) => player.client.once('disconnect', (packet: { reason: string }) => resolve(reasonText(packet.reason))));
    expect(kicked).toBe('Starting survival — ready in about 40 s');
    expect(attempts[0]).toMatchObject({ protocol: 340, holdable: false });
    expect(holds[0]!.abandoned).toBe(1);
  });

  it('kicks a raw handshake of protocol 9999 with the hold text, in the login state', async () => {
    const { lobby, port, attempts, holds } = await startLobby();
    const socket = connect({ host: HOST, port });
    const read = packetReader();
    const packets: { id: number; data: Buffer }[] = [];
    socket.on('data', (chunk) => packets.push(...read(chunk)));
    socket.on('error', () => {});
    socket.write(Buffer.concat([handshake(9999, 2, port), frame(0x00, ...str('Future'), ...new Array<number>(16).fill(0))]));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(packets).toHaveLength(1);
    expect(packets[0]!.id).toBe(0x00); // Login Disconnect
    expect(JSON.parse(packets[0]!.data.subarray(packets[0]!.data[0]! < 0x80 ? 1 : 2).toString('utf8'))).toEqual({ text: 'Starting survival — ready in about 40 s' });
    expect(attempts[0]).toMatchObject({ protocol: 9999, holdable: false });
    expect(holds[0]!.abandoned).toBe(1);
    expect(lobby.stats().held).toBe(0);
  });
});
