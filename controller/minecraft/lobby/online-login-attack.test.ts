import { constants, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeVarInt } from '../varint.js';
import { OnlineLogin, OnlineLoginError } from './online-login.js';
import { PacketReader } from './packet.js';

/**
 * Attack on the hand-made PKCS#1 v1.5 unpadding (Node 20 refuses that padding for private decryption,
 * so online-login.ts takes it off itself). Bleichenbacher's attack needs only one bit: "this ciphertext
 * decrypts to a conforming block" against "it does not". Any ciphertext an attacker recorded (another
 * player's shared secret) can then be decrypted, and anything signed with the lobby's key, by sending
 * chosen blocks as Encryption Responses and reading the answer. Every failure must read the same.
 */

const require = createRequire(import.meta.url);
const mc = require('minecraft-protocol') as {
  createSerializer(o: { state: string; isServer: boolean; version: string }): { createPacketBuffer(p: { name: string; params: object }): Buffer };
  createDeserializer(o: { state: string; isServer: boolean; version: string }): { parsePacketBuffer(b: Buffer): { data: { name: string; params: Record<string, unknown> } } };
};

function requestOf(version: string, login: OnlineLogin): { publicKey: Buffer; verifyToken: Buffer } {
  const framed = login.request();
  const length = decodeVarInt(framed)!;
  const params = mc.createDeserializer({ state: 'login', isServer: false, version }).parsePacketBuffer(framed.subarray(length.size)).data.params;
  return { publicKey: params.publicKey as Buffer, verifyToken: params.verifyToken as Buffer };
}

function answer(version: string, params: object): PacketReader {
  const packet = new PacketReader(mc.createSerializer({ state: 'login', isServer: false, version }).createPacketBuffer({ name: 'encryption_begin', params }));
  packet.varInt('id');
  return packet;
}

/** The raw RSA of a 128-byte block of the attacker's choosing: what the lobby's private key turns back into `block`. */
const raw = (publicKey: Buffer, block: Buffer) => publicEncrypt({ key: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }), padding: constants.RSA_NO_PADDING }, block);
const pkcs = (publicKey: Buffer, data: Buffer) => publicEncrypt({ key: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PADDING }, data);

/** 0x00 0x02, `padding` non-zero bytes, 0x00, `message`: 128 bytes in all (a 1024-bit key's block). */
function block(first: number, second: number, message: Buffer, padding = 128 - 3 - message.length): Buffer {
  const nonZero = Buffer.from(Array.from({ length: padding }, (_, i) => 1 + (i % 250)));
  const out = Buffer.concat([Buffer.from([first, second]), nonZero, Buffer.from([0]), message]);
  return Buffer.concat([out, Buffer.alloc(128 - out.length, 7)]).subarray(0, 128);
}

function refusal(login: OnlineLogin, packet: PacketReader): string {
  try {
    login.accept(packet);
  } catch (err) {
    expect(err).toBeInstanceOf(OnlineLoginError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('no padding oracle in the online login', () => {
  it('a shared secret whose block conforms to PKCS#1 v1.5 (but is not 16 bytes) is refused exactly like one that does not conform', () => {
    const login = new OnlineLogin(340, undefined);
    const { publicKey, verifyToken } = requestOf('1.12.2', login);
    const token = pkcs(publicKey, verifyToken);
    const answers = {
      conforming15: refusal(login, answer('1.12.2', { sharedSecret: raw(publicKey, block(0, 2, Buffer.alloc(15, 0x2a))), verifyToken: token })),
      conforming40: refusal(login, answer('1.12.2', { sharedSecret: raw(publicKey, block(0, 2, Buffer.alloc(40, 5))), verifyToken: token })),
      conformingEmpty: refusal(login, answer('1.12.2', { sharedSecret: raw(publicKey, block(0, 2, Buffer.alloc(0))), verifyToken: token })),
      wrongType: refusal(login, answer('1.12.2', { sharedSecret: raw(publicKey, block(0, 3, Buffer.alloc(16, 5))), verifyToken: token })),
      shortPadding: refusal(login, answer('1.12.2', { sharedSecret: raw(publicKey, block(0, 2, Buffer.alloc(16, 5), 5)), verifyToken: token })),
      notOurKey: refusal(login, answer('1.12.2', { sharedSecret: randomBytes(128), verifyToken: token })),
    };
    expect(new Set(Object.values(answers)), JSON.stringify(answers, null, 1)).toHaveLength(1);
  });

  it('with a good secret, a verify token block that conforms (a wrong token) is refused exactly like one that does not', () => {
    const login = new OnlineLogin(769, undefined);
    const { publicKey } = requestOf('1.21.4', login);
    const secret = pkcs(publicKey, randomBytes(16));
    const conforming = refusal(login, answer('1.21.4', { sharedSecret: secret, verifyToken: raw(publicKey, block(0, 2, Buffer.from([9, 9, 9, 9]))) }));
    const conformingLong = refusal(login, answer('1.21.4', { sharedSecret: secret, verifyToken: raw(publicKey, block(0, 2, Buffer.alloc(30, 9))) }));
    const notConforming = refusal(login, answer('1.21.4', { sharedSecret: secret, verifyToken: raw(publicKey, block(0, 1, Buffer.from([9, 9, 9, 9]))) }));
    expect(new Set([conforming, conformingLong, notConforming]), JSON.stringify({ conforming, conformingLong, notConforming })).toHaveLength(1);
  });

  it('1.19.2 signed token: a bad signature after a conforming secret reads like a secret that does not conform', () => {
    const profile = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const login = new OnlineLogin(760, profile.publicKey);
    const { publicKey } = requestOf('1.19.2', login);
    const signed = { salt: randomBytes(8).readBigInt64BE(0), messageSignature: randomBytes(128) };
    const goodSecret = refusal(login, answer('1.19.2', { sharedSecret: pkcs(publicKey, randomBytes(16)), hasVerifyToken: false, crypto: signed }));
    const badSecret = refusal(login, answer('1.19.2', { sharedSecret: raw(publicKey, block(0, 3, Buffer.alloc(16, 5))), hasVerifyToken: false, crypto: signed }));
    expect(goodSecret).toBe(badSecret);
  });
});
