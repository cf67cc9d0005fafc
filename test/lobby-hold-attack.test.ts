import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LobbyListener, type LobbyOptions } from '../controller/minecraft/lobby/lobby-listener.js';
import type { LobbyHandlers, LoginAttempt } from '../controller/minecraft/lobby/types.js';
import { controlledHold, frame, handshake, packetReader, str, varint } from './helpers/held-login.js';
import { startSessionServer } from './helpers/session-server.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Attacks on the waiting room and the online login at the listener, by raw clients from a few loopback
 * addresses (127.0.0.x as the client's local address): protocol numbers the table does not know, one
 * address holding all it can, holds filling the global cap, and one address's slow session checks.
 * Every count and wait is bounded.
 */

const opened: { close(): Promise<void> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.destroy());
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

async function startLobby(handlers: Partial<LobbyHandlers>, options: Partial<LobbyOptions> = {}) {
  const attempts: LoginAttempt[] = [];
  const holds: ReturnType<typeof controlledHold>[] = [];
  const lobby = new LobbyListener(
    {
      status: () => ({ motd: 'asleep', versionName: 'OoD', online: 0, max: 20 }),
      login: (attempt) => {
        attempts.push(attempt);
        const held = controlledHold();
        holds.push(held);
        return { hold: held.hold };
      },
      ...handlers,
    },
    { host: '127.0.0.1', port: 0, ...options },
  );
  await lobby.listen();
  opened.push({ close: () => lobby.closeAll() });
  return { lobby, port: lobby.address!.port, attempts, holds };
}

/** A raw client from `localAddress`: logs in with `protocol`, acknowledges a Login Success and answers keep-alives; records the packets it got. */
function rawJoin(port: number, localAddress: string, protocol = 769, name = 'Alex_1') {
  const got: { id: number; data: Buffer }[] = [];
  let closed = false;
  const socket = connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(Buffer.concat([handshake(protocol, 2, port), frame(0x00, ...str(name), ...Array<number>(16).fill(0))])));
  sockets.push(socket);
  const read = packetReader();
  let state: 'login' | 'configuration' = 'login';
  socket.on('error', () => socket.destroy());
  socket.on('close', () => void (closed = true));
  socket.on('data', (chunk) => {
    for (const packet of read(chunk)) {
      got.push(packet);
      if (state === 'login' && packet.id === 0x02) {
        state = 'configuration';
        socket.write(frame(0x03));
      } else if (state === 'configuration' && packet.id === 0x04) socket.write(frame(0x04, ...packet.data));
    }
  });
  return {
    got,
    get closed() {
      return closed;
    },
  };
}

function statusPing(port: number, localAddress: string): Promise<'answered' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(Buffer.concat([handshake(769, 1, port), frame(0x00)])));
    const timer = setTimeout(() => socket.destroy(), 3_000);
    let answered = false;
    socket.on('data', () => {
      answered = true;
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answered ? 'answered' : 'refused');
    });
  });
}

describe('protocol numbers the waiting room does not know', () => {
  it('are never held, whatever login() answers: a login Disconnect with the hold\'s text, the hold abandoned once', async () => {
    const { port, attempts, holds, lobby } = await startLobby({});
    for (const protocol of [-1, 0, 5, 765, 776, 1_000_000, 2_147_483_647]) {
      const client = rawJoin(port, '127.0.0.2', protocol);
      await waitUntil(`protocol ${protocol} to be answered`, () => client.closed, 5_000, 20);
      expect(client.got.map((p) => p.id), `protocol ${protocol}`).toEqual([0x00]);
      expect(client.got[0]!.data.toString('utf8')).toContain('Starting survival');
      expect(attempts.at(-1)).toMatchObject({ protocol, holdable: false });
      expect(holds.at(-1)!.abandoned).toBe(1);
    }
    expect(lobby.stats()).toMatchObject({ held: 0, transferred: 0 });
  }, 30_000);
});

describe('holds and the caps', () => {
  it('one address holds no more than its per-address cap; another address is still answered and held', async () => {
    const { port, lobby, holds } = await startLobby({}, { maxConnectionsPerAddress: 8 });
    const attacker = Array.from({ length: 40 }, (_, i) => rawJoin(port, '127.0.0.2', 769, `Bot${i}`));
    await waitUntil('the attacker to be held up to its cap', () => lobby.stats().held === 8 && attacker.filter((c) => c.closed).length === 32, 10_000, 20);
    expect(await statusPing(port, '127.0.0.3')).toBe('answered');
    const player = rawJoin(port, '127.0.0.3', 769, 'Steve');
    await waitUntil('the player to be held', () => lobby.stats().held === 9, 5_000, 20);
    holds.at(-1)!.settle({ transfer: { host: 'survival.example.com', port: 25565 } });
    await waitUntil('the player to be transferred', () => player.closed, 5_000, 20);
    expect(player.got.map((p) => p.id)).toEqual([0x02, 0x0b]); // Login Success, then Transfer in the configuration state
  }, 30_000);

  it('holds filling the global cap do not starve status pings and logins of a new address', async () => {
    const { port, lobby } = await startLobby({}, { maxConnectionsPerAddress: 8, maxConnections: 24 });
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) for (let i = 0; i < 8; i++) rawJoin(port, address, 769, `Bot${i}`);
    await waitUntil('24 held', () => lobby.stats().held === 24, 10_000, 20);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await statusPing(port, `127.0.0.${10 + i}`));
    expect(results).toEqual(Array(5).fill('answered'));
    const newcomer = rawJoin(port, '127.0.0.20', 769, 'Steve');
    await waitUntil('the newcomer to be held', () => newcomer.got.some((p) => p.id === 0x02), 5_000, 20);
    expect(lobby.connections).toBeLessThanOrEqual(24);
  }, 30_000);
});

describe('session checks', () => {
  it('one address cannot fill the session server cap: with checks hanging, another address is still asked about', async () => {
    const session = await startSessionServer([]);
    opened.push(session);
    session.mode = 'hang';
    const { port, lobby } = await startLobby({ authenticate: true, login: () => 'never' }, { sessionServer: session.url, sessionTimeoutMs: 4_000, maxSessionChecks: 32 });
    for (let i = 0; i < 40; i++) onlineJoin(port, '127.0.0.2', `Bot${i}`);
    await waitUntil('the attacker\'s checks to be asked', () => session.calls.length >= 8, 5_000, 20);
    await new Promise((r) => setTimeout(r, 300));
    const attackerCalls = session.calls.length;
    expect(attackerCalls).toBe(8);
    onlineJoin(port, '127.0.0.3', 'Steve');
    await waitUntil('the other address to be asked about', () => session.calls.some((c) => c.username === 'Steve'), 3_000, 20);
    expect(lobby.stats().logins).toBe(0);
  }, 30_000);
});

describe('session checks from a few addresses', () => {
  it('four addresses filling every one of the 32 slots with hanging checks do not turn a fifth away: its join displaces the newest check of the address asking the most', async () => {
    const session = await startSessionServer([]);
    opened.push(session);
    session.mode = 'hang';
    const { port } = await startLobby({ authenticate: true, login: () => 'never' }, { sessionServer: session.url, sessionTimeoutMs: 4_000, maxSessionChecks: 32 });
    for (const address of ['127.0.0.2', '127.0.0.4', '127.0.0.5', '127.0.0.6']) for (let i = 0; i < 8; i++) onlineJoin(port, address, `Bot${i}`);
    await waitUntil('32 checks to be asked', () => session.calls.length >= 32, 5_000, 20);
    onlineJoin(port, '127.0.0.3', 'Steve');
    await waitUntil('the fifth address to be asked about', () => session.calls.some((c) => c.username === 'Steve'), 3_000, 20);
    expect(session.calls).toHaveLength(33);
  }, 30_000);
});

describe('the encryption state', () => {
  it('a client that never answers the Encryption Request is closed at the connection\'s deadline and asks nothing', async () => {
    const session = await startSessionServer([]);
    opened.push(session);
    const { port, lobby } = await startLobby({ authenticate: true, login: () => 'never' }, { sessionServer: session.url, handshakeTimeoutMs: 300, connectionTimeoutMs: 1_000 });
    const started = Date.now();
    const closedAt = await new Promise<number>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () => socket.write(Buffer.concat([handshake(769, 2, port), frame(0x00, ...str('Bot'), ...Array<number>(16).fill(0))])));
      sockets.push(socket);
      socket.resume(); // read (and drop) the Encryption Request, so the lobby's close is seen
      socket.on('error', () => socket.destroy());
      socket.on('close', () => resolve(Date.now()));
    });
    expect(closedAt - started).toBeGreaterThanOrEqual(900);
    expect(closedAt - started).toBeLessThan(3_000);
    expect(session.calls).toHaveLength(0);
    await waitUntil('the lobby to let go of it', () => lobby.connections === 0, 2_000, 20);
  }, 15_000);
});

/** An online login from `localAddress`: a secret and the token encrypted with the lobby's key, so the lobby asks the session server. */
function onlineJoin(port: number, localAddress: string, name: string): void {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(Buffer.concat([handshake(340, 2, port), frame(0x00, ...str(name))])));
    sockets.push(socket);
    const read = packetReader();
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      for (const { id, data } of read(chunk)) {
        if (id !== 0x01) continue;
        let at = 1; // past the server id, empty
        const [keyLength, keyAt] = readVarint(data, at);
        const der = data.subarray(keyAt, keyAt + keyLength);
        at = keyAt + keyLength;
        const [tokenLength, tokenAt] = readVarint(data, at);
        const pub = createPublicKey({ key: der, format: 'der', type: 'spki' });
        const enc = (b: Buffer) => publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, b);
        const secret = enc(randomBytes(16));
        const token = enc(data.subarray(tokenAt, tokenAt + tokenLength));
        socket.write(frame(0x01, ...varint(secret.length), ...secret, ...varint(token.length), ...token));
      }
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
