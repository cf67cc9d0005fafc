import { createCipheriv, createDecipheriv, createHash, createPublicKey, generateKeyPairSync, privateDecrypt, randomBytes, timingSafeEqual, verify, constants, type Cipher, type Decipher, type KeyObject } from 'node:crypto';
import { OodError } from '../../errors.js';
import { encodePacket, encodeString, encodeVarInt } from '../varint.js';
import { PacketReader } from './packet.js';

/**
 * The server's side of Minecraft's online-mode login, for every client from 1.7 (protocol 5) on:
 * Encryption Request, Encryption Response, the shared secret, AES/CFB8 on the stream, and the server
 * hash the session server's `hasJoined` is asked about.
 * https://minecraft.wiki/w/Java_Edition_protocol/Encryption (and the protocol pages of each version cited below).
 */

/** The client's answer did not check out: the connection says why in a login disconnect. */
export class OnlineLoginError extends OodError {
  readonly retryable = false;
}

/** Protocol 47 (1.8) made byte arrays VarInt-prefixed; 1.7's (4, 5) are prefixed by a short. */
const FIRST_VARINT_ARRAYS = 47;
/** 1.19 (759) and 1.19.1–1.19.2 (760): the response may carry a salt and signature instead of the token. */
const SIGNED_NONCE = new Set([759, 760]);
/** 1.20.5 (766) added `shouldAuthenticate` at the end of the Encryption Request. */
const FIRST_SHOULD_AUTHENTICATE = 766;
/** Vanilla's server id since 1.7: empty. */
const SERVER_ID = '';
const SECRET_BYTES = 16;
const TOKEN_BYTES = 4;
/** Encrypted fields are one RSA block of a 1024-bit key; vanilla allows up to 256 bytes each. */
const MAX_ENCRYPTED_BYTES = 256;

export interface LobbyKey {
  /** DER SubjectPublicKeyInfo, as the Encryption Request sends it and the server hash covers it. */
  publicDer: Buffer;
  privateKey: KeyObject;
}

let processKey: LobbyKey | undefined;

/** This process's RSA 1024 key pair, as vanilla uses: made once (about 10 ms), on the first online login. */
export function lobbyKey(): LobbyKey {
  if (!processKey) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    processKey = { publicDer: publicKey.export({ type: 'spki', format: 'der' }), privateKey };
  }
  return processKey;
}

/** Minecraft's server hash: SHA-1 of server id, secret and public key, as a signed hex number without leading zeros. */
export function serverHash(serverId: string, secret: Buffer, publicDer: Buffer): string {
  const digest = createHash('sha1').update(serverId, 'ascii').update(secret).update(publicDer).digest();
  const negative = (digest[0]! & 0x80) !== 0;
  let value = BigInt(`0x${digest.toString('hex')}`);
  if (negative) value = (1n << 160n) - value; // the magnitude of the two's complement number
  return (negative ? '-' : '') + value.toString(16);
}

/** One Encryption Request packet (0x01 in the login state). */
export function encryptionRequest(protocol: number, publicDer: Buffer, token: Buffer): Buffer {
  const fields = [encodeString(SERVER_ID), byteArray(protocol, publicDer), byteArray(protocol, token)];
  if (protocol >= FIRST_SHOULD_AUTHENTICATE) fields.push(Buffer.from([1])); // yes: the client must call join first
  return encodePacket(0x01, ...fields);
}

/** The client's Encryption Response, as read: the token either encrypted or (1.19–1.19.2) signed. */
export interface EncryptionResponse {
  encryptedSecret: Buffer;
  proof: { encryptedToken: Buffer } | { salt: Buffer; signature: Buffer };
}

/** Reads an Encryption Response's fields (the packet id already read). Throws OnlineLoginError on a bad layout. */
export function readEncryptionResponse(protocol: number, packet: PacketReader): EncryptionResponse {
  try {
    const encryptedSecret = readArray(protocol, packet, 'shared secret');
    let proof: EncryptionResponse['proof'];
    if (SIGNED_NONCE.has(protocol) && packet.take(1, 'has verify token')[0] === 0) {
      proof = { salt: packet.take(8, 'salt'), signature: readArray(protocol, packet, 'signature') };
    } else {
      proof = { encryptedToken: readArray(protocol, packet, 'verify token') };
    }
    packet.end('encryption response');
    return { encryptedSecret, proof };
  } catch (err) {
    throw new OnlineLoginError(`The encryption response was malformed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * The profile public key a 1.19 or 1.19.1–1.19.2 Login Start may carry after the name (timestamp,
 * key, Mojang's signature of it): the key a signed Encryption Response is checked against.
 */
export function profileKeyOf(protocol: number, afterName: Buffer): KeyObject | undefined {
  if (!SIGNED_NONCE.has(protocol)) return undefined;
  const packet = new PacketReader(afterName);
  try {
    if (packet.remaining === 0 || packet.take(1, 'has signature data')[0] === 0) return undefined;
    packet.take(8, 'key expiry');
    const der = readArray(protocol, packet, 'profile public key');
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (err) {
    throw new OnlineLoginError(`The login start's profile key was malformed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export interface StreamKeys {
  secret: Buffer;
  /** What the session server is asked about for this join. */
  serverHash: string;
  /** For everything the lobby writes from now on. */
  cipher: Cipher;
  /** For everything the client sends from now on. */
  decipher: Decipher;
}

/**
 * One online login in progress: the request it sent (with its own token) and the check of the answer.
 */
export class OnlineLogin {
  private readonly token = randomBytes(TOKEN_BYTES);

  constructor(
    readonly protocol: number,
    private readonly profileKey: KeyObject | undefined,
    private readonly key: LobbyKey = lobbyKey(),
  ) {}

  request(): Buffer {
    return encryptionRequest(this.protocol, this.key.publicDer, this.token);
  }

  /**
   * Checks the Encryption Response and opens the stream. Throws OnlineLoginError saying what did not
   * check out; after the layout, every failure is one message (NOT_OURS) on one path, both fields
   * decrypted whatever the first gave: "the block conformed but was the wrong length" must never read
   * differently from "it did not conform", or the answer is Bleichenbacher's padding oracle.
   */
  accept(packet: PacketReader): StreamKeys {
    const response = readEncryptionResponse(this.protocol, packet);
    if (!('encryptedToken' in response.proof) && !this.profileKey) throw new OnlineLoginError('The verify token was signed, but the login start carried no profile key to check it with');
    const secret = rsaDecrypt(this.key.privateKey, response.encryptedSecret);
    let proved: boolean;
    if ('encryptedToken' in response.proof) {
      const token = rsaDecrypt(this.key.privateKey, response.proof.encryptedToken);
      proved = token?.length === TOKEN_BYTES && timingSafeEqual(token, this.token);
    } else {
      const signed = Buffer.concat([this.token, response.proof.salt]);
      proved = verify('sha256', signed, this.profileKey!, response.proof.signature);
    }
    if (secret?.length !== SECRET_BYTES || !proved) throw new OnlineLoginError(NOT_OURS);
    return {
      secret,
      serverHash: serverHash(SERVER_ID, secret, this.key.publicDer),
      cipher: createCipheriv('aes-128-cfb8', secret, secret),
      decipher: createDecipheriv('aes-128-cfb8', secret, secret),
    };
  }
}

/** How long a proven join's server hash is remembered: longer than the session server vouches for a join. */
const REPLAY_WINDOW_MS = 10 * 60_000;
const provenHashes = new Map<string, number>();

/**
 * True the first time a server hash the session server proved is seen in this process, false for a
 * replay. The verify token cannot tell: anyone may encrypt a token with the lobby's public key, so a
 * shared secret recorded off the wire (still unreadable) can be sent again with a new one, and the
 * session server still vouches for that join for a while. A game would then just face a client it
 * cannot talk to; the lobby would wake a server for it. Only proven hashes are kept (an attacker
 * cannot make the session server prove one), those of the last REPLAY_WINDOW_MS.
 */
export function firstUseOfProvenJoin(hash: string, now = Date.now()): boolean {
  for (const [seen, at] of provenHashes) {
    if (now - at < REPLAY_WINDOW_MS) break; // kept in the order they were seen
    provenHashes.delete(seen);
  }
  if (provenHashes.has(hash)) return false;
  provenHashes.set(hash, now);
  return true;
}

/** The one refusal of an Encryption Response that parsed: it says nothing of which field or check failed. */
const NOT_OURS = "The encryption response did not check out against this lobby's key and verify token";

/**
 * RSA PKCS#1 v1.5 decryption. Node 20 refuses that padding for private decryption (CVE-2023-46809,
 * the Marvin timing attack), so the raw block is decrypted natively and the padding taken off here:
 * 0x00 0x02, at least 8 non-zero bytes, 0x00, the message. Undefined on any failure: the caller
 * refuses every failure alike (NOT_OURS), never with what failed.
 */
function rsaDecrypt(privateKey: KeyObject, data: Buffer): Buffer | undefined {
  let block: Buffer;
  try {
    block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, data);
  } catch {
    return undefined; // not a block of this key's size, or not below its modulus: refused as NOT_OURS
  }
  const separator = block[0] === 0x00 && block[1] === 0x02 ? block.indexOf(0x00, 2) : -1;
  return separator < 10 ? undefined : block.subarray(separator + 1);
}

function byteArray(protocol: number, bytes: Buffer): Buffer {
  if (protocol >= FIRST_VARINT_ARRAYS) return Buffer.concat([encodeVarInt(bytes.length), bytes]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function readArray(protocol: number, packet: PacketReader, what: string): Buffer {
  const length = protocol >= FIRST_VARINT_ARRAYS ? packet.varInt(`${what}'s length`) : packet.take(2, `${what}'s length`).readInt16BE(0);
  if (length < 0 || length > MAX_ENCRYPTED_BYTES) throw new OnlineLoginError(`The ${what} has a length of ${length} (at most ${MAX_ENCRYPTED_BYTES})`);
  return packet.take(length, what);
}
