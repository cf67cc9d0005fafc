import mc from 'minecraft-protocol';
import { constants, createDecipheriv, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, type Decipher } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LobbyListener, type LobbyOptions } from '../controller/minecraft/lobby/lobby-listener.js';
import type { LoginAttempt } from '../controller/minecraft/lobby/types.js';
import { serverHash } from '../controller/minecraft/lobby/online-login.js';
import { reasonText } from './helpers/bot.js';
import { controlledHold } from './helpers/held-login.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { startSessionServer, type SessionStandIn, type StandInAccount } from './helpers/session-server.js';
import { waitUntil } from './helpers/wait.js';

/**
 * lobby.authenticate: real minecraft-protocol clients of three versions do the online-mode login
 * against the lobby, the session server being a local stand-in (test/helpers/session-server.ts). A
 * client with a session the stand-in knows reaches login() with its proven account; one without a
 * session, with a wrong token or secret, or facing a session server that hangs, is told why and never
 * reaches login().
 */

const HOST = '127.0.0.1';
const VERSIONS = ['1.7.10', '1.8.8', '1.12.2', '1.19.2', '1.21.4'] as const;
const ALEX: StandInAccount = { id: '5c4b6a1f2e3d4c5b9a8f7e6d5c4b3a21', name: 'Alex_1', accessToken: 'alex-access-token' };
const STEVE: StandInAccount = { id: '8667ba71b85a4004af54457a9734eed7', name: 'Steve', accessToken: 'steve-access-token' };
const KNOWN = 'Could not verify your account: the session server has no record of this join. Restart your game (it renews your session) and join again.';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

async function standIn(): Promise<SessionStandIn> {
  const server = await startSessionServer([ALEX]);
  opened.push(server);
  return server;
}

async function startLobby(sessionServer: string, options: Partial<LobbyOptions> = {}) {
  const logins: LoginAttempt[] = [];
  const lobby = new LobbyListener(
    {
      status: () => ({ motd: 'asleep', versionName: 'OoD', online: 0, max: 20 }),
      login: (attempt) => {
        logins.push(attempt);
        return `Starting survival for ${attempt.name}, ready in about 80 s — join again then`;
      },
      authenticate: true,
    },
    { host: HOST, port: 0, sessionServer, ...options },
  );
  await lobby.listen();
  opened.push({ close: () => lobby.closeAll() });
  return { lobby, port: lobby.address!.port, logins };
}

/**
 * A client that joins as `account` through the session server at `sessionServer` (the client posts
 * /session/minecraft/join with its token and the server hash, as the vanilla launcher's game does),
 * or, without `account`, an offline client named `name` that skips that call.
 */
function joinAndReadKick(port: number, version: string, sessionServer: string, as: { account: StandInAccount; profileKeys?: object } | { name: string }, onClient: (client: mc.Client) => void = () => {}): Promise<string> {
  const client = mc.createClient({
    host: HOST,
    port,
    version,
    hideErrors: true,
    sessionServer,
    ...('account' in as
      ? {
          username: as.account.name,
          auth: (c: mc.Client, options: mc.ClientOptions & { accessToken?: string; haveCredentials?: boolean; connect: (c: mc.Client) => void }) => {
            c.username = as.account.name;
            (c as unknown as { session: object }).session = { accessToken: as.account.accessToken, selectedProfile: { id: as.account.id, name: as.account.name } };
            // 1.19–1.19.2 clients with chat keys sign the verify token instead of encrypting it.
            if (as.profileKeys) (c as unknown as { profileKeys: object }).profileKeys = as.profileKeys;
            options.accessToken = as.account.accessToken;
            options.haveCredentials = true;
            options.connect(c);
          },
        }
      : { username: as.name, auth: 'offline' as const }),
  } as mc.ClientOptions);
  onClient(client);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`${version} client was not turned away within 15 s`));
    }, 15_000);
    client.on('disconnect', (packet: { reason: unknown }) => {
      clearTimeout(timer);
      resolve(reasonText(packet.reason));
    });
    client.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client.on('end', () => {
      clearTimeout(timer);
      reject(new Error(`${version} client's connection ended without a disconnect reason`));
    });
  });
}

describe('the lobby authenticates joins (lobby.authenticate)', () => {
  for (const version of VERSIONS) {
    it(`${version}: a client with a session the session server knows reaches login() with the proven account; the answer arrives encrypted`, async () => {
      const session = await standIn();
      const { port, logins } = await startLobby(session.url);
      const reason = await joinAndReadKick(port, version, session.url, { account: ALEX });
      expect(reason).toBe('Starting survival for Alex_1, ready in about 80 s — join again then');
      expect(logins).toHaveLength(1);
      expect(logins[0]).toMatchObject({ name: 'Alex_1', proven: { id: ALEX.id, name: 'Alex_1', properties: [{ name: 'textures' }] } });
      // One join call by the client, one hasJoined by the lobby with the same server hash.
      const [join, asked] = session.calls;
      expect(session.calls).toHaveLength(2);
      expect(join).toMatchObject({ path: '/session/minecraft/join', status: 204 });
      expect(asked).toMatchObject({ path: '/session/minecraft/hasJoined', username: 'Alex_1', serverId: join!.serverId, status: 200 });
    }, 30_000);

    it(`${version}: a waker's name without a valid session is told so and never reaches login()`, async () => {
      const session = await standIn();
      const { port, logins } = await startLobby(session.url);
      expect(await joinAndReadKick(port, version, session.url, { name: 'Alex_1' })).toBe(KNOWN);
      expect(logins).toHaveLength(0);
      expect(session.calls).toMatchObject([{ path: '/session/minecraft/hasJoined', username: 'Alex_1', status: 204 }]);
    }, 30_000);
  }

  it('1.21.4: a proven account is held in the waiting room over the encrypted stream (Login Success with its UUID and properties), and let go with the reason', async () => {
    const session = await standIn();
    const held = controlledHold();
    const lobby = new LobbyListener({ status: () => ({ motd: 'asleep', versionName: 'OoD', online: 0, max: 20 }), login: () => ({ hold: held.hold }), authenticate: true }, { host: HOST, port: 0, sessionServer: session.url });
    await lobby.listen();
    opened.push({ close: () => lobby.closeAll() });
    let success: { uuid: string; username: string; properties: { name: string }[] } | undefined;
    const reason = joinAndReadKick(lobby.address!.port, '1.21.4', session.url, { account: ALEX }, (client) =>
      client.on('success', (packet: NonNullable<typeof success>) => {
        success = packet;
        // Settled once the client is in the configuration state: it reads the reason there.
        setTimeout(() => held.settle({ kick: 'survival could not start; ask its admin' }), 300);
      }),
    );
    expect(await reason).toBe('survival could not start; ask its admin');
    expect(success).toMatchObject({ uuid: '5c4b6a1f-2e3d-4c5b-9a8f-7e6d5c4b3a21', username: 'Alex_1', properties: [{ name: 'textures' }] });
  }, 30_000);

  it('1.19.2 with chat keys: the signed verify token is checked against the key of its login start', async () => {
    const session = await standIn();
    const { port, logins } = await startLobby(session.url);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    // Mojang's signature of the key is not the lobby's to check (the session server proves the account).
    const profileKeys = { public: publicKey, private: privateKey, expiresOn: new Date(Date.now() + 3_600_000), signature: randomBytes(256), signatureV2: randomBytes(256) };
    expect(await joinAndReadKick(port, '1.19.2', session.url, { account: ALEX, profileKeys })).toBe('Starting survival for Alex_1, ready in about 80 s — join again then');
    expect(logins).toMatchObject([{ name: 'Alex_1', proven: { id: ALEX.id } }]);
  }, 30_000);

  it('a session server that does not answer in time: the player is told so, and login() is not called', async () => {
    const session = await standIn();
    session.mode = 'hang';
    const { port, logins, lobby } = await startLobby(session.url, { sessionTimeoutMs: 500 });
    expect(await joinAndReadKick(port, '1.21.4', session.url, { account: ALEX })).toBe('Could not verify your account: the session server did not answer within 500 ms. Try again in a moment.');
    expect(logins).toHaveLength(0);
    expect(lobby.stats().logins).toBe(0);
  }, 30_000);

  it('the stand-in saying no to a known account (no session at all) turns 1.12.2 away too', async () => {
    const session = await standIn();
    session.mode = 'no-session';
    const { port, logins } = await startLobby(session.url);
    expect(await joinAndReadKick(port, '1.12.2', session.url, { account: ALEX })).toBe(KNOWN);
    expect(logins).toHaveLength(0);
  }, 30_000);

  it('a raw client with a wrong verify token, or a secret of the wrong length, is told why in plain text; nobody asks the session server', async () => {
    const session = await standIn();
    const { port, logins } = await startLobby(session.url);
    const wrongToken = await rawOnlineLogin(port, (key, _token) => [encrypt(key, randomBytes(16)), encrypt(key, Buffer.from('nope'))]);
    expect(wrongToken).toBe("Could not verify your account: the encryption response did not check out against this lobby's key and verify token.");
    const shortSecret = await rawOnlineLogin(port, (key, token) => [encrypt(key, randomBytes(15)), encrypt(key, token)]);
    expect(shortSecret).toBe("Could not verify your account: the encryption response did not check out against this lobby's key and verify token.");
    const notOurKey = await rawOnlineLogin(port, (_key, token) => [randomBytes(128), token]);
    expect(notOurKey).toBe("Could not verify your account: the encryption response did not check out against this lobby's key and verify token.");
    // A 1.19.2 login start whose profile key is cut short: told so before any encryption.
    const cutKey = await rawOnlineLogin(port, () => [Buffer.alloc(0), Buffer.alloc(0)], { protocol: 760, afterName: Buffer.from([1, 0, 0, 0]) });
    expect(cutKey).toBe("Could not verify your account: the login start's profile key was malformed: key expiry is cut short.");
    expect(logins).toHaveLength(0);
    expect(session.calls).toHaveLength(0);
  }, 30_000);
});

describe('ood serve with lobby.authenticate: only a proven waker wakes the server', () => {
  let home: OodHome;
  let serving: Serving;
  let session: SessionStandIn;
  const state = () => serving.controller.store.servers.get('world')!;

  beforeAll(async () => {
    session = await startSessionServer([ALEX, STEVE]);
    home = await makeOodHome({
      server: { lobby: { mode: 'wake', host: HOST, wakers: ['Alex_1'], authenticate: true } },
      config: { lobby: { sessionServer: session.url } },
    });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
    await session?.close();
  });

  it("turns away a waker's name without a session and a proven account not on the list; wakes for the proven waker", async () => {
    await waitUntil('the lobby to listen', () => serving.controller.lobby('world')!.listening, 10_000);
    expect(await joinAndReadKick(home.gamePort, '1.12.2', session.url, { name: 'Alex_1' })).toBe(KNOWN);
    expect(await joinAndReadKick(home.gamePort, '1.8.8', session.url, { account: STEVE })).toBe('Steve may not wake world. Ask its admin to link your Minecraft name to your OoD account');
    expect(state()).toMatchObject({ phase: 'archived', desired: 'down' });
    expect(serving.controller.store.audit.forServer('world')).toHaveLength(0);

    expect(await joinAndReadKick(home.gamePort, '1.12.2', session.url, { account: ALEX })).toMatch(/^Starting world, ready in (a minute or two|about \d+ s) — join again then$/);
    expect(state().desired).toBe('up');
    expect(serving.controller.store.audit.forServer('world')[0]).toMatchObject({ actor: 'minecraft:Alex_1', source: '127.0.0.1', action: 'start' });
    expect(session.calls.filter((c) => c.path.endsWith('hasJoined')).map((c) => [c.username, c.status])).toEqual([
      ['Alex_1', 204],
      ['Steve', 200],
      ['Alex_1', 200],
    ]);
    serving.controller.want('world', 'down', { actor: 'test', source: 'test' });
    await waitUntil('archived', () => state().phase === 'archived', 60_000, 100);
  }, 120_000);
});

describe('a shared secret sent again', () => {
  it('is refused while the session server would still vouch for it: the verify token cannot tell, since anyone may encrypt one', async () => {
    const session = await standIn();
    const { port, logins } = await startLobby(session.url);
    const secret = randomBytes(16);
    let recorded: Buffer | undefined; // the encrypted secret, as someone on the path would see it
    const first = await rawOnlineLogin(port, async (key, token) => {
      // The player's game tells the session server it joins, as the vanilla client does.
      const res = await fetch(`${session.url}/session/minecraft/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accessToken: ALEX.accessToken, selectedProfile: ALEX.id, serverId: serverHash('', secret, key) }) });
      expect(res.status).toBe(204);
      recorded = encrypt(key, secret);
      return [recorded, encrypt(key, token), secret]; // the secret only lets the test read the answer
    });
    expect(first).toBe('Starting survival for Alex_1, ready in about 80 s — join again then');
    const replay = await rawOnlineLogin(port, (key, token) => [recorded!, encrypt(key, token), secret]);
    expect(replay).toBe('Could not verify your account: this join was already used. Join again.');
    expect(logins).toHaveLength(1);
    expect(session.calls.filter((c) => c.path.endsWith('hasJoined')).map((c) => c.status)).toEqual([200, 200]);
  }, 30_000);
});

describe('fuzz of the encryption state', () => {
  it('malformed, truncated, bit-flipped and out-of-order Encryption Responses close only their own connection, never reach login(), and the lobby still proves a real client after', async () => {
    const seed = Number(process.env.LOBBY_FUZZ_SEED ?? Date.now() % 1_000_000);
    const session = await standIn();
    const { lobby, port, logins } = await startLobby(session.url, { maxConnectionsPerAddress: 64, handshakeTimeoutMs: 400, connectionTimeoutMs: 1_500, sessionTimeoutMs: 500 });
    const protocols = [5, 47, 340, 759, 760, 765, 769];
    let state = seed >>> 0;
    const rnd = (n: number) => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return state % n;
    };
    const mutations: ((valid: Buffer) => Buffer)[] = [
      () => randomBytes(1 + rnd(300)),
      (valid) => valid.subarray(0, rnd(valid.length)),
      (valid) => {
        const copy = Buffer.from(valid);
        copy[rnd(copy.length)]! ^= 1 << rnd(8);
        return copy;
      },
      (valid) => Buffer.concat([valid, valid]), // a second response, out of order
      () => frame(0x00, str('Alex_1')), // a second Login Start instead
      () => frame(0x01, varint(100_000)), // an array longer than the packet
      () => frame(0x01, bytes(randomBytes(300)), bytes(randomBytes(4))), // an array over the limit
    ];
    const runOne = async (n: number) => {
      const protocol = protocols[rnd(protocols.length)]!;
      const mutate = mutations[n % mutations.length]!;
      const closedAfterMs = await fuzzedResponse(port, protocol, (key, token) => {
        const short = protocol < 47;
        const array = (b: Buffer) => (short ? Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]) : bytes(b));
        const flag = protocol === 759 || protocol === 760 ? Buffer.from([1]) : Buffer.alloc(0);
        return mutate(frame(0x01, array(encrypt(key, randomBytes(16))), flag, array(encrypt(key, token))));
      });
      expect(closedAfterMs, `case ${n} (seed ${seed})`).toBeLessThan(3_000);
    };
    const total = 280;
    for (let n = 0; n < total; n += 14) await Promise.all(Array.from({ length: 14 }, (_, i) => runOne(n + i)));
    expect(logins).toHaveLength(0);
    await waitUntil('every fuzzed connection closed', () => lobby.connections === 0, 5_000);
    expect(await joinAndReadKick(port, '1.21.4', session.url, { account: ALEX })).toBe('Starting survival for Alex_1, ready in about 80 s — join again then');
    expect(logins).toHaveLength(1);
  }, 120_000);
});

/** Logs in online (as `protocol`), answers the Encryption Request with `response(key, token)` and half-closes; resolves when the lobby has closed, with how long that took. */
function fuzzedResponse(port: number, protocol: number, response: (publicKey: Buffer, token: Buffer) => Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: HOST, port }, () => socket.write(Buffer.concat([frame(0x00, varint(protocol), str('mc.example.org'), Buffer.from([0x63, 0xdd]), varint(2)), frame(0x00, str('Alex_1'), protocol === 759 ? Buffer.from([0]) : protocol === 760 ? Buffer.from([0, 0]) : Buffer.alloc(0))])));
    let received = Buffer.alloc(0);
    let answered = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`protocol ${protocol}: the lobby did not close within 5 s`));
    }, 5_000);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
    socket.on('data', (chunk) => {
      if (answered) return;
      received = Buffer.concat([received, chunk]);
      const [length, bodyAt] = readVarint(received, 0);
      if (received.length < bodyAt + length) return;
      const body = received.subarray(bodyAt, bodyAt + length);
      answered = true;
      const [, at] = readVarint(body, 0);
      const short = protocol < 47;
      const field = (offset: number): [Buffer, number] => {
        if (short) {
          const n = body.readUInt16BE(offset);
          return [body.subarray(offset + 2, offset + 2 + n), offset + 2 + n];
        }
        const [n, start] = readVarint(body, offset);
        return [body.subarray(start, start + n), start + n];
      };
      const [idLength, keyAt] = readVarint(body, at);
      const [key, tokenAt] = field(keyAt + idLength);
      const [token] = field(tokenAt);
      socket.end(response(key, token));
    });
  });
}

// --- A raw 1.12.2 client, written without the lobby's code ------------------------------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  for (;;) {
    if (v < 0x80) return Buffer.from([...out, v]);
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
}
function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const byte = buf[at + i]!;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) return [value, at + i + 1];
  }
  throw new Error('VarInt too long');
}
const bytes = (b: Buffer) => Buffer.concat([varint(b.length), b]);
const str = (s: string) => bytes(Buffer.from(s));
const frame = (id: number, ...fields: Buffer[]) => bytes(Buffer.concat([varint(id), ...fields]));
const encrypt = (key: Buffer, data: Buffer) => publicEncrypt({ key: createPublicKey({ key, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PADDING }, data);

/** Logs in as 1.12.2, answers the Encryption Request with `answer(key, token)`, returns the Login Disconnect's reason. */
/** `answer` may add the plain secret: the client then reads the rest of the stream with it (AES/CFB8, key = IV). */
function rawOnlineLogin(port: number, answer: (publicKey: Buffer, token: Buffer) => [Buffer, Buffer, Buffer?] | Promise<[Buffer, Buffer, Buffer?]>, hello = { protocol: 340, afterName: Buffer.alloc(0) }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port }, () => socket.write(Buffer.concat([frame(0x00, varint(hello.protocol), str('mc.example.org'), Buffer.from([0x63, 0xdd]), varint(2)), frame(0x00, str('Alex_1'), hello.afterName)])));
    let received = Buffer.alloc(0);
    let decipher: Decipher | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5_000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, decipher ? decipher.update(chunk) : chunk]);
      for (;;) {
        if (received.length === 0) return;
        const [length, bodyAt] = readVarint(received, 0);
        if (received.length < bodyAt + length) return;
        const body = received.subarray(bodyAt, bodyAt + length);
        received = received.subarray(bodyAt + length);
        const [id, at] = readVarint(body, 0);
        if (id === 0x01) {
          const [idLength, keyAt] = readVarint(body, at); // server id (empty)
          const [keyLength, keyStart] = readVarint(body, keyAt + idLength);
          const key = body.subarray(keyStart, keyStart + keyLength);
          const [tokenLength, tokenStart] = readVarint(body, keyStart + keyLength);
          Promise.resolve(answer(key, body.subarray(tokenStart, tokenStart + tokenLength))).then(([secret, token, plain]) => {
            socket.write(frame(0x01, bytes(secret), bytes(token)));
            if (plain) decipher = createDecipheriv('aes-128-cfb8', plain, plain);
          }, reject);
        } else if (id === 0x00) {
          const [textLength, textAt] = readVarint(body, at);
          clearTimeout(timer);
          socket.destroy();
          resolve(reasonText(body.subarray(textAt, textAt + textLength).toString('utf8')));
          return;
        } else {
          reject(new Error(`unexpected packet 0x${id.toString(16)}`));
        }
      }
    });
  });
}
