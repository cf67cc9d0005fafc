import mc from 'minecraft-protocol';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LobbyListener } from '../controller/minecraft/lobby/lobby-listener.js';
import { controlledHold, frame, handshake, packetReader, str, varint, type ControlledHold } from './helpers/held-login.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Fuzz of the waiting room's states, like the lobby's own fuzz (lobby-clients.test.ts): raw clients
 * that reach Login Success (protocol 769, 1.21.4) and then send malformed, truncated or out-of-order
 * packets where the lobby waits for Login Acknowledged, in the configuration state, and in answer to a
 * keep-alive. Each such connection is closed alone (its hold abandoned once), while real held clients
 * keep answering keep-alives and are transferred at the end.
 */

const HOST = '127.0.0.1';
const KEEP_ALIVE_MS = 250;
const HANDSHAKE_MS = 400;
const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

/** mulberry32: a small seeded generator, so a failing run can be repeated with its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { int, bytes };
}
type Rnd = ReturnType<typeof random>;

const ACK = frame(0x03);
const keepAliveAnswer = (id: Buffer) => frame(0x04, ...id);
const flip = (r: Rnd, b: Buffer) => {
  const copy = Buffer.from(b);
  const at = r.int(copy.length);
  copy.writeUInt8(copy.readUInt8(at) ^ (1 << r.int(8)), at);
  return copy;
};

/**
 * One case: which state it starts in, what it sends there (given the keep-alive id the lobby sent, in
 * the keep-alive state), and whether that must close the connection (`closes`) or may be valid.
 */
interface Case {
  name: string;
  state: 'login-ack' | 'configuration' | 'keep-alive';
  closes: boolean;
  make(r: Rnd, keepAliveId: Buffer): Buffer;
}

const CASES: Case[] = [
  // Waiting for Login Acknowledged.
  { name: 'random bytes before the ack', state: 'login-ack', closes: false, make: (r) => r.bytes(1 + r.int(40)) },
  { name: 'ack with bytes after it', state: 'login-ack', closes: true, make: (r) => frame(0x03, ...r.bytes(1 + r.int(8))) },
  { name: 'keep-alive before the ack', state: 'login-ack', closes: true, make: (r) => frame(0x04, ...r.bytes(8)) },
  { name: 'login start again', state: 'login-ack', closes: true, make: () => frame(0x00, ...str('Again')) },
  { name: 'ack cut short', state: 'login-ack', closes: true, make: () => Buffer.from([0x01]) },
  { name: 'huge frame length', state: 'login-ack', closes: true, make: (r) => Buffer.from(varint([0x7fffffff, -1, 2049, 100_000][r.int(4)]!)) },
  // In the configuration state.
  { name: 'unknown packet id', state: 'configuration', closes: true, make: (r) => Buffer.concat([ACK, frame(0x0a + r.int(100), ...r.bytes(r.int(20)))]) },
  { name: 'keep-alive cut short', state: 'configuration', closes: true, make: (r) => Buffer.concat([ACK, frame(0x04, ...r.bytes(r.int(8)))]) },
  { name: 'unasked keep-alive answer', state: 'configuration', closes: true, make: (r) => Buffer.concat([ACK, frame(0x04, ...r.bytes(8))]) },
  { name: 'oversized plugin message', state: 'configuration', closes: true, make: (r) => Buffer.concat([ACK, frame(0x02, ...str('minecraft:brand'), ...r.bytes(3_000))]) },
  { name: 'VarInt over 5 bytes', state: 'configuration', closes: true, make: () => Buffer.concat([ACK, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]) },
  { name: 'unasked pong and finish-configuration', state: 'configuration', closes: false, make: (r) => Buffer.concat([ACK, frame(0x05, 0, 0, 0, 1), frame(0x03, ...r.bytes(r.int(2)))]) },
  { name: 'client information with a bit flipped', state: 'configuration', closes: false, make: (r) => Buffer.concat([ACK, flip(r, frame(0x00, ...str('en_us'), 10, 0, 1, 127, 1, 0, 1, 0))]) },
  { name: 'random frames', state: 'configuration', closes: false, make: (r) => Buffer.concat([ACK, frame(r.int(12), ...r.bytes(r.int(30)))]) },
  // In answer to a keep-alive.
  { name: 'keep-alive with a wrong id', state: 'keep-alive', closes: true, make: (_r, id) => keepAliveAnswer(Buffer.from(id.map((b) => b ^ 0xff))) },
  { name: 'keep-alive answered twice', state: 'keep-alive', closes: true, make: (_r, id) => Buffer.concat([keepAliveAnswer(id), keepAliveAnswer(id)]) },
  { name: 'keep-alive answer cut short', state: 'keep-alive', closes: true, make: (r, id) => keepAliveAnswer(id).subarray(0, 1 + r.int(9)) },
  { name: 'keep-alive with bytes after it', state: 'keep-alive', closes: true, make: (r, id) => frame(0x04, ...id, ...r.bytes(1 + r.int(4))) },
  { name: 'keep-alive answer, then garbage', state: 'keep-alive', closes: false, make: (r, id) => Buffer.concat([keepAliveAnswer(id), r.bytes(1 + r.int(30))]) },
];

/** A raw client held by the lobby: logs in, reaches `state`, sends the case's bytes; resolves how it ended. */
function runCase(port: number, name: string, kase: Case, r: Rnd, waitMs: number): Promise<'closed by the lobby' | 'still held'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    const read = packetReader();
    let sent = false;
    let timer: NodeJS.Timeout | undefined;
    const send = (bytes: Buffer) => {
      sent = true;
      socket.write(bytes);
      timer = setTimeout(() => {
        socket.destroy();
        resolve('still held');
      }, waitMs);
    };
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      // After our own time-out this comes second, and changes nothing.
      if (!sent) reject(new Error(`${name} (${kase.name}) was closed before it reached its state`));
      else resolve('closed by the lobby');
    });
    socket.on('data', (chunk) => {
      if (sent) return;
      for (const { id, data } of read(chunk)) {
        if (id === 0x02 && kase.state === 'login-ack') return send(kase.make(r, Buffer.alloc(8)));
        if (id === 0x02 && kase.state === 'configuration') return send(kase.make(r, Buffer.alloc(8)));
        if (id === 0x02) socket.write(ACK);
        if (id === 0x04 && data.length === 8) return send(kase.make(r, data));
      }
    });
    socket.write(Buffer.concat([handshake(769, 2, port), frame(0x00, ...str(name), ...new Array<number>(16).fill(7))]));
  });
}

describe('waiting room fuzz', () => {
  it('closes only the connection that sent malformed, truncated or out-of-order packets after Login Success', async () => {
    const seed = Number(process.env.LOBBY_FUZZ_SEED ?? Date.now() % 1_000_000);
    const holds = new Map<string, ControlledHold>();
    const lobby = new LobbyListener(
      {
        status: () => ({ motd: 'asleep', versionName: 'OoD', online: 0, max: 20 }),
        login: ({ name }) => {
          const held = controlledHold();
          holds.set(name, held);
          return { hold: held.hold };
        },
      },
      { host: HOST, port: 0, keepAliveMs: KEEP_ALIVE_MS, handshakeTimeoutMs: HANDSHAKE_MS, connectionTimeoutMs: 3_000, maxConnectionsPerAddress: 64 },
    );
    await lobby.listen();
    opened.push({ close: () => lobby.closeAll() });
    const port = lobby.address!.port;

    // Three real clients, held through the whole run.
    const players = ['Keeper1', 'Keeper2', 'Keeper3'].map((username) => {
      const client = mc.createClient({ host: HOST, port, username, version: '1.21.4', auth: 'offline', hideErrors: true });
      client.on('error', () => {});
      opened.push({ close: async () => client.end() });
      let keepAlives = 0;
      client.on('packet', (_data, meta: { name: string }) => {
        if (meta.name === 'keep_alive') keepAlives++;
      });
      const transfer = new Promise<unknown>((resolve) => client.once('transfer', resolve));
      return { username, transfer, keepAlives: () => keepAlives };
    });
    await waitUntil('the three held', () => lobby.stats().held === 3, 10_000);
    const before = players.map((p) => p.keepAlives());

    const total = 600;
    const tally = new Map<string, { closed: number; held: number }>();
    let next = 0;
    // Long enough for 3 unanswered keep-alive intervals and the ack deadline, with room for a busy machine.
    const waitMs = 3 * KEEP_ALIVE_MS + HANDSHAKE_MS + 1_000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          const n = next++;
          const r = random(seed * 100_003 + n);
          const kase = CASES[r.int(CASES.length)]!;
          const outcome = await runCase(port, `Fuzz${n}`, kase, r, waitMs);
          const t = tally.get(kase.name) ?? { closed: 0, held: 0 };
          if (outcome === 'closed by the lobby') t.closed++;
          else t.held++;
          tally.set(kase.name, t);
          if (kase.closes) expect(outcome, `${kase.name}, case ${n} (seed ${seed})`).toBe('closed by the lobby');
        }
      }),
    );

    await waitUntil('every fuzz connection gone', () => lobby.connections === 3, 5_000);
    const stats = lobby.stats();
    console.log(`waiting room fuzz: seed ${seed}, ${total} cases`, Object.fromEntries(tally), stats);
    expect(stats.held).toBe(3);
    expect(stats.closedOnError).toBeGreaterThan(total / 2);
    // Every fuzz hold was let go exactly once; the real clients' were not.
    const fuzzHolds = [...holds].filter(([name]) => name.startsWith('Fuzz'));
    expect(fuzzHolds).toHaveLength(total);
    expect(fuzzHolds.filter(([, held]) => held.abandoned !== 1)).toEqual([]);

    // The real clients were served all along, and are sent on now.
    players.forEach((p, i) => expect(p.keepAlives(), p.username).toBeGreaterThan(before[i]! + 2));
    for (const p of players) holds.get(p.username)!.settle({ transfer: { host: HOST, port: 25565 } });
    expect(await Promise.all(players.map((p) => p.transfer))).toEqual(players.map(() => ({ host: HOST, port: 25565 })));
    await waitUntil('all let go', () => lobby.connections === 0, 5_000);
    expect(lobby.stats()).toMatchObject({ held: 0, transferred: 3 });
    expect(players.every((p) => holds.get(p.username)!.abandoned === 0)).toBe(true);
  }, 120_000);
});
