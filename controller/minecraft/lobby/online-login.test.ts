import { constants, createCipheriv, createPublicKey, createDecipheriv, generateKeyPairSync, publicEncrypt, randomBytes, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeVarInt } from '../varint.js';
import { firstUseOfProvenJoin, OnlineLogin, OnlineLoginError, profileKeyOf, serverHash } from './online-login.js';
import { PacketReader } from './packet.js';

// minecraft-protocol's own (de)serializers, as its client reads the lobby's packets and writes its answer.
const require = createRequire(import.meta.url);
const mc = require('minecraft-protocol') as {
  createSerializer(o: { state: string; isServer: boolean; version: string }): { createPacketBuffer(p: { name: string; params: object }): Buffer };
  createDeserializer(o: { state: string; isServer: boolean; version: string }): { parsePacketBuffer(b: Buffer): { data: { name: string; params: Record<string, unknown> } } };
};

/** The Encryption Request as the client of `version` parses it (the frame's length taken off). */
function asClientReads(version: string, framed: Buffer): { name: string; params: Record<string, unknown> } {
  const length = decodeVarInt(framed)!;
  expect(length.value).toBe(framed.length - length.size);
  return mc.createDeserializer({ state: 'login', isServer: false, version }).parsePacketBuffer(framed.subarray(length.size)).data;
}

/** The client's Encryption Response, as minecraft-protocol's client writes it, as a reader past the packet id. */
function clientAnswer(version: string, params: object): PacketReader {
  const packet = new PacketReader(mc.createSerializer({ state: 'login', isServer: false, version }).createPacketBuffer({ name: 'encryption_begin', params }));
  expect(packet.varInt('id')).toBe(0x01);
  return packet;
}

const rsa = (publicKey: Buffer, data: Buffer) => publicEncrypt({ key: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PADDING }, data);

const VERSIONS = [
  ['1.7.10', 5],
  ['1.8.8', 47],
  ['1.12.2', 340],
  ['1.19', 759],
  ['1.19.2', 760],
  ['1.20.4', 765],
  ['1.21.4', 769],
] as const;

describe('serverHash', () => {
  it("matches Minecraft's signed SHA-1 digests", () => {
    const none = Buffer.alloc(0);
    expect(serverHash('Notch', none, none)).toBe('4ed1f46bbe04bc756bcb17c0c7ce3e4632f06a48');
    expect(serverHash('jeb_', none, none)).toBe('-7c9d5b0044c130109a5d7b5fb5c317c02b4e28c1');
    expect(serverHash('simon', none, none)).toBe('88e16a1019277b15d58faf0541e11910eb756f6');
  });
});

describe('OnlineLogin', () => {
  for (const [version, protocol] of VERSIONS) {
    it(`speaks ${version} (protocol ${protocol}): a request its client parses, and its answer opens the stream`, () => {
      const login = new OnlineLogin(protocol, undefined);
      const request = asClientReads(version, login.request());
      expect(request.name).toBe('encryption_begin');
      expect(request.params.serverId).toBe('');
      const publicKey = request.params.publicKey as Buffer;
      const token = request.params.verifyToken as Buffer;
      expect(token).toHaveLength(4);
      if (protocol >= 766) expect(request.params.shouldAuthenticate).toBe(true);
      else expect(request.params).not.toHaveProperty('shouldAuthenticate');

      const secret = randomBytes(16);
      const encrypted = { sharedSecret: rsa(publicKey, secret), verifyToken: rsa(publicKey, token) };
      const params = protocol === 759 || protocol === 760 ? { sharedSecret: encrypted.sharedSecret, hasVerifyToken: true, crypto: { verifyToken: encrypted.verifyToken } } : encrypted;
      const keys = login.accept(clientAnswer(version, params));
      expect(keys.secret.equals(secret)).toBe(true);

      // The client's own AES/CFB8 (key = IV = secret) both ways.
      const fromClient = createCipheriv('aes-128-cfb8', secret, secret);
      expect(keys.decipher.update(fromClient.update(Buffer.from('login acknowledged'))).toString()).toBe('login acknowledged');
      const toClient = createDecipheriv('aes-128-cfb8', secret, secret);
      expect(toClient.update(keys.cipher.update(Buffer.from('{"text":"bye"}'))).toString()).toBe('{"text":"bye"}');
      expect(keys.serverHash).toBe(serverHash('', secret, publicKey));
    });
  }

  it('refuses a token that is not the one it sent', () => {
    const login = new OnlineLogin(769, undefined);
    const publicKey = asClientReads('1.21.4', login.request()).params.publicKey as Buffer;
    const answer = clientAnswer('1.21.4', { sharedSecret: rsa(publicKey, randomBytes(16)), verifyToken: rsa(publicKey, Buffer.from([1, 2, 3, 4])) });
    expect(() => login.accept(answer)).toThrow(new OnlineLoginError("The encryption response did not check out against this lobby's key and verify token"));
  });

  it('refuses a secret of the wrong length, one not encrypted with its key, and a bad layout', () => {
    const login = new OnlineLogin(340, undefined);
    const request = asClientReads('1.12.2', login.request()).params;
    const publicKey = request.publicKey as Buffer;
    const token = rsa(publicKey, request.verifyToken as Buffer);
    expect(() => login.accept(clientAnswer('1.12.2', { sharedSecret: rsa(publicKey, randomBytes(15)), verifyToken: token }))).toThrow("The encryption response did not check out against this lobby's key and verify token");

    const otherKey = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' });
    expect(() => login.accept(clientAnswer('1.12.2', { sharedSecret: rsa(otherKey, randomBytes(16)), verifyToken: token }))).toThrow(OnlineLoginError);
    expect(() => login.accept(clientAnswer('1.12.2', { sharedSecret: randomBytes(128), verifyToken: token }))).toThrow("The encryption response did not check out against this lobby's key and verify token");

    const cut = Buffer.concat([Buffer.from([0x80, 0x01]), randomBytes(40)]); // claims 128 bytes, has 40
    expect(() => login.accept(new PacketReader(cut))).toThrow(/malformed.*cut short/);
    const trailing = clientAnswer('1.12.2', { sharedSecret: rsa(publicKey, randomBytes(16)), verifyToken: token });
    const withTail = new PacketReader(Buffer.concat([Buffer.from([0x01]), trailing.take(trailing.remaining, 'all'), Buffer.from([9])]));
    withTail.varInt('id');
    expect(() => login.accept(withTail)).toThrow(/unexpected bytes/);
  });

  it('checks a 1.19 signed token against the profile key of the login start', () => {
    const profile = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const loginStart = mc.createSerializer({ state: 'login', isServer: false, version: '1.19.2' }).createPacketBuffer({
      name: 'login_start',
      params: { username: 'Alex', signature: { timestamp: BigInt(Date.now() + 60_000), publicKey: profile.publicKey.export({ type: 'spki', format: 'der' }), signature: randomBytes(256) }, playerUUID: undefined },
    });
    const start = new PacketReader(loginStart);
    start.varInt('id');
    expect(start.string('name', 16)).toBe('Alex');
    const key = profileKeyOf(760, start.take(start.remaining, 'rest'));
    expect(key).toBeDefined();

    const login = new OnlineLogin(760, key);
    const request = asClientReads('1.19.2', login.request()).params;
    const publicKey = request.publicKey as Buffer;
    const salt = 0x0102030405060708n;
    const saltBytes = Buffer.alloc(8);
    saltBytes.writeBigInt64BE(salt);
    const signature = sign('sha256', Buffer.concat([request.verifyToken as Buffer, saltBytes]), profile.privateKey);
    const signed = (sig: Buffer) => clientAnswer('1.19.2', { sharedSecret: rsa(publicKey, randomBytes(16)), hasVerifyToken: false, crypto: { salt, messageSignature: sig } });
    expect(login.accept(signed(signature)).secret).toHaveLength(16);
    expect(() => login.accept(signed(randomBytes(128)))).toThrow("The encryption response did not check out against this lobby's key and verify token");
    expect(() => new OnlineLogin(760, undefined).accept(signed(signature))).toThrow('no profile key');
  });
});

describe('firstUseOfProvenJoin', () => {
  it('says yes once per server hash, no to a repeat within ten minutes, and forgets it after', () => {
    const t = 1_000_000_000;
    expect(firstUseOfProvenJoin('-5e1f', t)).toBe(true);
    expect(firstUseOfProvenJoin('7a2b', t + 1_000)).toBe(true);
    expect(firstUseOfProvenJoin('-5e1f', t + 9 * 60_000)).toBe(false);
    expect(firstUseOfProvenJoin('-5e1f', t + 10 * 60_000)).toBe(true);
    expect(firstUseOfProvenJoin('7a2b', t + 10 * 60_000 + 500)).toBe(false);
  });
});
