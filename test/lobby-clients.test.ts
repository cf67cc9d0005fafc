import mc from 'minecraft-protocol';
import mineflayer from 'mineflayer';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { LobbyListener, type LobbyHandlers, type LobbyOptions, type LobbyStatus } from '../controller/minecraft/lobby/lobby-listener.js';
import { reasonText } from './helpers/bot.js';
import { waitUntil } from './helpers/wait.js';

/**
 * The lobby against real clients on 127.0.0.1: minecraft-protocol's ping, mineflayer bots of four
 * versions, a raw status client written here without any code of the listener, a legacy ping, a fuzz
 * run, the caps and deadlines, and proxy mode.
 */

const HOST = '127.0.0.1';
const PROTOCOLS = { '1.8.8': 47, '1.12.2': 340, '1.20.1': 763, '1.21.4': 769 } as const;
const VERSIONS = Object.keys(PROTOCOLS) as (keyof typeof PROTOCOLS)[];
const FAVICON = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let status: LobbyStatus = { motd: 'Survival is asleep, join to wake it', versionName: 'OoD 1.21.4', online: 0, max: 20, favicon: FAVICON };
const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
  status = { motd: 'Survival is asleep, join to wake it', versionName: 'OoD 1.21.4', online: 0, max: 20, favicon: FAVICON };
});

interface LoginCall {
  name: string;
  address: string;
  protocol: number;
}

async function startLobby(options: Partial<LobbyOptions> = {}, handlers: Partial<LobbyHandlers> = {}) {
  const logins: LoginCall[] = [];
  const lobby = new LobbyListener(
    {
      status: () => status,
      login: ({ name, address, protocol }) => {
        logins.push({ name, address, protocol });
        return `Waking survival for ${name}, ready in about 80 s`;
      },
      ...handlers,
    },
    { host: HOST, port: 0, ...options },
  );
  await lobby.listen();
  opened.push({ close: () => lobby.closeAll() });
  return { lobby, port: lobby.address!.port, logins };
}

// --- A raw client, written independently of the listener's code ---------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  for (;;) {
    if (v < 0x80) return [...out, v];
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
}
const str = (s: string) => [...varint(Buffer.byteLength(s)), ...Buffer.from(s)];
const frame = (id: number, ...data: number[]) => Buffer.from([...varint(varint(id).length + data.length), ...varint(id), ...data]);
const handshake = (protocol: number, next: number, port = 25565) => frame(0x00, ...varint(protocol), ...str('mc.example.org'), port >> 8, port & 0xff, ...varint(next));

/** Sends `bytes` (and a FIN when `end`), collects everything until the server closes. */
function exchange(port: number, bytes: Buffer, { end = false, timeoutMs = 5_000, localAddress = undefined as string | undefined } = {}): Promise<{ data: Buffer; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect({ host: HOST, port, localAddress }, () => (end ? socket.end(bytes) : socket.write(bytes)));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the lobby did not close the connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => socket.destroy()); // a reset still ends in 'close', which is what is measured
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closedAfterMs: Date.now() - started });
    });
  });
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const b = buf[at + i]!;
    value |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return [value, at + i + 1];
  }
  throw new Error('bad varint');
}

interface StatusJson {
  version: { name: string; protocol: number };
  players: { max: number; online: number; sample: unknown[] };
  description: unknown;
  favicon?: string;
}

/** A status exchange by hand: the JSON and the pong's payload. */
async function rawStatus(port: number, protocol: number, localAddress?: string) {
  const payload = [1, 2, 3, 4, 5, 6, 7, 8];
  const { data } = await exchange(port, Buffer.concat([handshake(protocol, 1, port), frame(0x00), frame(0x01, ...payload)]), { localAddress });
  const [length, afterLength] = readVarint(data, 0);
  const [id, afterId] = readVarint(data, afterLength);
  const [textLength, afterText] = readVarint(data, afterId);
  const json = JSON.parse(data.subarray(afterText, afterText + textLength).toString('utf8')) as StatusJson;
  const pong = data.subarray(afterLength + length);
  return { id, json, pong: [...pong], expectedPong: [2 + 8 - 1, 0x01, ...payload] };
}


// --- Status ------------------------------------------------------------------------------------

describe('status ping', () => {
  it('shows the motd, players and the echoed protocol to minecraft-protocol clients of each version', async () => {
    const { lobby, port } = await startLobby();
    status = { ...status, online: 3 };
    for (const version of VERSIONS) {
      const answer = (await mc.ping({ host: HOST, port, version })) as mc.NewPingResult;
      expect(answer.version, version).toEqual({ name: 'OoD 1.21.4', protocol: PROTOCOLS[version] });
      expect(answer.description).toEqual({ text: 'Survival is asleep, join to wake it' });
      expect(answer.players).toMatchObject({ online: 3, max: 20 });
      expect(answer.favicon).toBe(FAVICON);
    }
    // version: false pings as the library's default version; it is still shown as compatible.
    const anyVersion = (await mc.ping({ host: HOST, port, version: false as unknown as string })) as mc.NewPingResult;
    expect(anyVersion.version.protocol).toBeGreaterThan(769);
    expect(lobby.stats()).toMatchObject({ statusAnswered: 5, closedOnError: 0, logins: 0 });
  });

  it('answers an independent raw client, echoes any protocol and returns the ping payload', async () => {
    const { port } = await startLobby();
    for (const protocol of [4, 47, 769, -1, 123456]) {
      const { id, json, pong, expectedPong } = await rawStatus(port, protocol);
      expect(id).toBe(0x00);
      expect(json).toEqual({ version: { name: 'OoD 1.21.4', protocol }, players: { max: 20, online: 0, sample: [] }, description: { text: 'Survival is asleep, join to wake it' }, favicon: FAVICON });
      expect(pong).toEqual(expectedPong);
    }
  });

  it('leaves out a favicon too large for a protocol string instead of breaking the answer', async () => {
    const { port } = await startLobby();
    status = { ...status, favicon: 'data:image/png;base64,' + 'A'.repeat(40_000) };
    const { json } = await rawStatus(port, 769);
    expect(json.favicon).toBeUndefined();
    expect(json.description).toEqual({ text: 'Survival is asleep, join to wake it' });
  });

  it('answers legacy pings: 0xFE 0x01 (1.4–1.5), 0xFE 0x01 0xFA… (1.6) and a lone 0xFE (beta–1.3)', async () => {
    const { lobby, port } = await startLobby();
    status = { ...status, online: 4 };
    const kick = (data: Buffer) => {
      expect(data[0]).toBe(0xff);
      expect(data.length).toBe(3 + 2 * data.readUInt16BE(1));
      return Buffer.from(data.subarray(3)).swap16().toString('utf16le');
    };
    const v1 = ['§1', '127', 'OoD 1.21.4', 'Survival is asleep, join to wake it', '4', '20'];
    expect(kick((await exchange(port, Buffer.from([0xfe, 0x01]))).data).split('\0')).toEqual(v1);
    const host = Buffer.from(Buffer.from('mc.example.org', 'utf16le')).swap16();
    const data16 = Buffer.concat([Buffer.from([78]), Buffer.from([0, 14]), host, Buffer.from([0, 0, 0x63, 0xdd])]);
    const pingHost = Buffer.from(Buffer.from('MC|PingHost', 'utf16le')).swap16();
    const v16 = Buffer.concat([Buffer.from([0xfe, 0x01, 0xfa, 0x00, 0x0b]), pingHost, Buffer.from([0, data16.length]), data16]);
    expect(kick((await exchange(port, v16)).data).split('\0')).toEqual(v1);
    // A lone 0xFE is answered after a short wait for a 0x01 that does not come, in the beta format.
    const beta = await exchange(port, Buffer.from([0xfe]));
    expect(kick(beta.data)).toBe('Survival is asleep, join to wake it§4§20');
    expect(beta.closedAfterMs).toBeLessThan(1_000);
    expect(lobby.stats()).toMatchObject({ legacy: 3, closedOnError: 0 });
  });
});

// --- Login -------------------------------------------------------------------------------------

describe('login', () => {
  it('kicks mineflayer bots of 1.8.8, 1.12.2, 1.20.1 and 1.21.4 with the text login() returned', async () => {
    const { lobby, port, logins } = await startLobby();
    for (const version of VERSIONS) {
      const username = `Bot${version.replaceAll('.', '')}`;
      const bot = mineflayer.createBot({ host: HOST, port, username, version, auth: 'offline', hideErrors: true });
      const reason = await new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${version} bot was not kicked within 30 s`)), 30_000);
        bot.once('kicked', (why) => {
          clearTimeout(timer);
          resolve(why);
        });
        bot.once('spawn', () => reject(new Error(`${version} bot spawned in the lobby`)));
      });
      expect(reasonText(reason), version).toBe(`Waking survival for ${username}, ready in about 80 s`);
      expect(logins.at(-1)).toEqual({ name: username, address: HOST, protocol: PROTOCOLS[version] });
    }
    expect(lobby.stats()).toMatchObject({ logins: 4, closedOnError: 0 });
    await waitUntil('lobby connections closed', () => lobby.connections === 0, 5_000);
  });

  it('waits for an async login() and handles one that fails with a generic text', async () => {
    let fail = false;
    const { lobby, port } = await startLobby({}, {
      login: async ({ name }) => {
        await new Promise((r) => setTimeout(r, 200));
        if (fail) throw new Error('store is locked');
        return `later, ${name}`;
      },
    });
    const login = (name: string, next = 2) => Buffer.concat([handshake(769, next, port), frame(0x00, ...str(name), ...new Array(16).fill(7))]);
    const text = async (bytes: Buffer) => {
      const { data } = await exchange(port, bytes);
      const [, afterLength] = readVarint(data, 0);
      const [id, afterId] = readVarint(data, afterLength);
      expect(id).toBe(0x00);
      const [len, at] = readVarint(data, afterId);
      return (JSON.parse(data.subarray(at, at + len).toString('utf8')) as { text: string }).text;
    };
    expect(await text(login('Alex'))).toBe('later, Alex');
    expect(await text(login('Alex', 3))).toBe('later, Alex'); // transfer intent: also a login
    fail = true;
    expect(await text(login('Alex'))).toMatch(/could not handle this login/);
    expect(await text(login('bad name'))).toBe('That player name is not valid.');
    expect(lobby.stats()).toMatchObject({ logins: 3, closedOnError: 2 });
  });
});

// --- Caps and deadlines -------------------------------------------------------------------------

/** An open connection that has sent `bytes` and stays silent; resolves when it is connected. */
function holdOpen(port: number, bytes: Buffer = Buffer.alloc(0), localAddress?: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: HOST, port, localAddress }, () => {
      if (bytes.length) socket.write(bytes);
      resolve({ socket, closed });
    });
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.on('error', (err) => {
      if (!err.message.includes('ECONNRESET')) reject(err);
    });
  });
}

describe('caps and deadlines', () => {
  it('refuses connections over the per-address cap at once, and counts per IP', async () => {
    const { lobby, port } = await startLobby({ maxConnectionsPerAddress: 3 });
    const held = await Promise.all([1, 2, 3].map(() => holdOpen(port)));
    await waitUntil('three lobby connections', () => lobby.connections === 3, 2_000);
    const refused = await exchange(port, Buffer.alloc(0));
    expect(refused.data.length).toBe(0);
    expect(refused.closedAfterMs).toBeLessThan(500);
    expect(lobby.stats().refused).toBe(1);
    // Another loopback address is another client: it gets its answer.
    expect((await rawStatus(port, 769, '127.0.0.2')).json.description).toEqual({ text: 'Survival is asleep, join to wake it' });
    held[0]!.socket.destroy();
    await waitUntil('a slot freed', () => lobby.connections === 2, 2_000);
    expect((await rawStatus(port, 47)).json.version.protocol).toBe(47);
    for (const h of held) h.socket.destroy();
  });

  it('closes a half handshake, a slow sender and a silent client within handshakeTimeoutMs', async () => {
    const { lobby, port } = await startLobby({ handshakeTimeoutMs: 300 });
    const half = await holdOpen(port, handshake(769, 1, port).subarray(0, 6));
    const silent = await holdOpen(port);
    const slow = await holdOpen(port);
    const bytes = Buffer.concat([handshake(769, 1, port), frame(0x00)]);
    let i = 0;
    const drip = setInterval(() => i < bytes.length && !slow.socket.destroyed && slow.socket.write(bytes.subarray(i, ++i)), 40);
    const times = await Promise.all([half.closed, silent.closed, slow.closed]);
    clearInterval(drip);
    for (const ms of times) {
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(300 + 400);
    }
    expect(lobby.stats()).toMatchObject({ closedOnError: 3, statusAnswered: 0 });
    await waitUntil('lobby connections closed', () => lobby.connections === 0, 2_000);
  });

  it('closes a connection whose login() never answers at connectionTimeoutMs', async () => {
    const { lobby, port } = await startLobby({ connectionTimeoutMs: 500 }, { login: () => new Promise<string>(() => undefined) });
    const { data, closedAfterMs } = await exchange(port, Buffer.concat([handshake(769, 2, port), frame(0x00, ...str('Alex'))]));
    expect(data.length).toBe(0);
    expect(closedAfterMs).toBeGreaterThanOrEqual(450);
    expect(closedAfterMs).toBeLessThan(1_200);
    expect(lobby.stats()).toMatchObject({ logins: 1, closedOnError: 1 });
  });

  it('refuses to listen on a port in use with the system error code, and frees its port on close()', async () => {
    const { lobby, port } = await startLobby();
    const second = new LobbyListener({ status: () => status, login: () => 'no' }, { host: HOST, port });
    await expect(second.listen()).rejects.toMatchObject({ name: 'LobbyListenError', code: 'EADDRINUSE' });
    const held = await holdOpen(port);
    await waitUntil('held connection accepted', () => lobby.connections === 1, 2_000);
    await lobby.close();
    expect(lobby.listening).toBe(false);
    expect(lobby.connections).toBe(0);
    await held.closed;
    const other: Server = createServer();
    await new Promise<void>((resolve, reject) => other.once('error', reject).listen(port, HOST, resolve));
    await new Promise((r) => other.close(r));
  });
});

// --- Fuzz --------------------------------------------------------------------------------------

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
  return { next, int, bytes };
}

describe('fuzz', () => {
  it('survives 10,000 random, truncated, oversized and slow packets, then still answers and holds no memory', async () => {
    const seed = Number(process.env.LOBBY_FUZZ_SEED ?? Date.now() % 1_000_000);
    const { lobby, port } = await startLobby({ maxConnectionsPerAddress: 64, handshakeTimeoutMs: 400, connectionTimeoutMs: 1_500 });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Load everything the final checks use (minecraft-data for 1.21.4 is many MB) before the baseline.
    await mc.ping({ host: HOST, port, version: '1.21.4' });
    await rawStatus(port, 769);
    await waitUntil('warm-up pings closed', () => lobby.connections === 0, 3_000);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    type Rnd = ReturnType<typeof random>;
    const valid = (r: Rnd) =>
      r.int(2)
        ? Buffer.concat([handshake(r.int(800), 1, port), frame(0x00), frame(0x01, ...r.bytes(8))])
        : Buffer.concat([handshake(r.int(800), 2, port), frame(0x00, ...str('Fuzz' + r.int(1000)), ...r.bytes(r.int(20)))]);
    const cut = (r: Rnd, b: Buffer) => b.subarray(0, r.int(b.length));
    const flip = (r: Rnd, b: Buffer) => {
      const copy = Buffer.from(b);
      const at = r.int(copy.length);
      copy.writeUInt8(copy.readUInt8(at) ^ (1 << r.int(8)), at);
      return copy;
    };
    const cases: { name: string; make: (r: Rnd) => Buffer }[] = [
      { name: 'random bytes', make: (r) => r.bytes(1 + r.int(64)) },
      { name: 'valid prefix cut short', make: (r) => cut(r, valid(r)) },
      { name: 'huge or negative VarInt length', make: (r) => Buffer.concat([Buffer.from(varint([0x7fffffff, -1, -2147483648, 2049, 100_000][r.int(5)]!)), r.bytes(r.int(16))]) },
      { name: 'VarInt over 5 bytes', make: (r) => Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, r.int(128)]) },
      { name: 'valid handshake, then garbage', make: (r) => Buffer.concat([handshake(r.int(800), 1 + r.int(3), port), frame(r.int(256), ...r.bytes(r.int(40)))]) },
      { name: 'valid exchange with one bit flipped', make: (r) => flip(r, valid(r)) },
      { name: 'bad string lengths', make: (r) => frame(0x00, ...varint(47), ...varint([-1, 100_000, 766][r.int(3)]!), ...r.bytes(r.int(30))) },
      { name: 'legacy ping prefixes', make: (r) => Buffer.concat([Buffer.from([0xfe, 0x01, 0xfa].slice(0, 1 + r.int(3))), r.bytes(r.int(3) * r.int(20))]) },
      { name: 'valid exchange', make: valid },
    ];
    let packets = 0;
    const total = 10_000;
    const tally = new Map<string, number>();
    const runOne = async (n: number) => {
      // Each case has its own generator, so LOBBY_FUZZ_SEED repeats it whatever the scheduling.
      const r = random(seed * 100_003 + n);
      // Mostly immediate cases; 1 in 100 holds a truncated packet open and 1 in 200 drips it slowly.
      const special = n % 200 === 0 ? 'slow' : n % 100 === 50 ? 'hold' : undefined;
      const kind = cases[r.int(cases.length)]!;
      const bytes = special ? valid(r).subarray(0, 5 + r.int(10)) : kind.make(r);
      const name = special ?? kind.name;
      tally.set(name, (tally.get(name) ?? 0) + 1);
      packets++;
      if (special === 'slow') {
        const { socket, closed } = await holdOpen(port);
        let i = 0;
        const drip = setInterval(() => i < bytes.length && !socket.destroyed && socket.write(bytes.subarray(i, ++i)), 60);
        const ms = await closed;
        clearInterval(drip);
        expect(ms, `slow sender (seed ${seed})`).toBeLessThan(400 + 500);
        return;
      }
      const { data, closedAfterMs } = await exchange(port, bytes, { end: special !== 'hold', timeoutMs: 3_000 });
      expect(closedAfterMs, `${name} (seed ${seed})`).toBeLessThan(3_000);
      if (name === 'valid exchange') expect(data.length, `answer to case ${n} (seed ${seed})`).toBeGreaterThan(0);
    };
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) await runOne(next++);
      }),
    );
    const fuzzMs = Date.now() - started;

    await waitUntil('all lobby connections closed', () => lobby.connections === 0, 5_000);
    const { json } = await rawStatus(port, 769);
    expect(json.version.protocol).toBe(769);
    expect(((await mc.ping({ host: HOST, port, version: '1.21.4' })) as mc.NewPingResult).description).toEqual({ text: 'Survival is asleep, join to wake it' });

    gc();
    const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    const stats = lobby.stats();
    console.log(`lobby fuzz: seed ${seed}, ${packets} packets in ${fuzzMs} ms, heap growth ${growthMb.toFixed(1)} MB after GC`, Object.fromEntries(tally), stats);
    expect(packets).toBe(total);
    expect(stats.accepted).toBeGreaterThanOrEqual(total);
    expect(stats.refused).toBe(0);
    expect(stats.closedOnError).toBeGreaterThan(total / 2);
    expect(stats.legacy).toBeGreaterThan(0);
    expect(stats.statusAnswered + stats.logins).toBeGreaterThanOrEqual(tally.get('valid exchange')!);
    expect(growthMb).toBeLessThan(10);
    await waitUntil('the last pings closed', () => lobby.connections === 0, 3_000);
  }, 90_000);
});

// --- Proxy mode --------------------------------------------------------------------------------

describe('proxy mode', () => {
  async function echoServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
    const sockets = new Set<Socket>();
    const server = createServer({ allowHalfOpen: true }, (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
      s.pipe(s);
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    opened.push({ close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) });
    return { server, port: (server.address() as AddressInfo).port, sockets };
  }

  it('forwards bytes both ways unchanged, counts the connection while open, and the lobby never reads it', async () => {
    const echo = await echoServer();
    let target: { host: string; port: number } | null = { host: HOST, port: echo.port };
    const { lobby, port } = await startLobby({}, { route: () => target });
    const client = connect({ host: HOST, port });
    await new Promise((r) => client.once('connect', r));
    // A Minecraft handshake goes through as bytes too: the lobby does not answer it.
    const payload = Buffer.concat([handshake(769, 2, port), frame(0x00, ...str('Alex')), random(7).bytes(1 << 20)]);
    const received: Buffer[] = [];
    let size = 0;
    client.on('data', (c: Buffer) => {
      received.push(c);
      size += c.length;
    });
    client.write(payload);
    await waitUntil('echo of 1 MB', () => size >= payload.length, 10_000);
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    expect(lobby.proxied).toBe(1);
    expect(lobby.stats()).toMatchObject({ logins: 0, statusAnswered: 0 });
    client.end();
    await waitUntil('proxied back to 0', () => lobby.proxied === 0, 5_000);
    await waitUntil('echo side closed', () => echo.sockets.size === 0, 5_000);

    // route() may change per connection: null answers as the lobby.
    target = null;
    expect((await rawStatus(port, 769)).json.version.protocol).toBe(769);
  });

  it('drops the client when the upstream cannot be reached, and close() leaves forwarded players connected', async () => {
    const echo = await echoServer();
    const closedPort = await (async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, HOST, r));
      const p = (s.address() as AddressInfo).port;
      await new Promise((r) => s.close(r));
      return p;
    })();
    let target = { host: HOST, port: closedPort };
    const { lobby, port } = await startLobby({}, { route: () => target });
    const dropped = await exchange(port, Buffer.from('hello'));
    expect(dropped.data.length).toBe(0);
    await waitUntil('failed proxy counted', () => lobby.stats().closedOnError === 1 && lobby.proxied === 0, 2_000);

    target = { host: HOST, port: echo.port };
    const player = await holdOpen(port, Buffer.from('still here'));
    await waitUntil('forwarded', () => lobby.proxied === 1 && echo.sockets.size === 1, 2_000);
    await lobby.close();
    expect(lobby.listening).toBe(false);
    let echoed = '';
    player.socket.on('data', (c: Buffer) => (echoed += c.toString()));
    player.socket.write('!');
    await waitUntil('echo through the closed lobby', () => echoed === 'still here!', 2_000);
    expect(lobby.proxied).toBe(1);
    await lobby.closeAll();
    await player.closed;
    await waitUntil('proxied back to 0 after closeAll', () => lobby.proxied === 0, 2_000);
  });
});
