import { createHash } from 'node:crypto';
import { encodePacket, encodeString, encodeVarInt, LobbyProtocolError } from '../varint.js';
import type { PacketReader } from './packet.js';
import { fit } from './status-json.js';
import type { ProvenAccount } from './types.js';
import type { WaitingProtocol } from './waiting-protocol.js';

/**
 * The waiting room's packets, built from a row of waiting-protocol.ts. Nothing here holds state:
 * connection.ts decides when each is sent.
 */

/** The account a held client is logged in as: the session server's, or an offline one. */
export interface LoginAccount {
  /** 16 bytes. */
  uuid: Buffer;
  name: string;
  properties: ProvenAccount['properties'];
}

/** Vanilla's offline-mode UUID: version 3 (MD5) of "OfflinePlayer:<name>", as the game would give this player. */
export function offlineUuid(name: string): Buffer {
  const bytes = createHash('md5').update(`OfflinePlayer:${name}`, 'utf8').digest();
  bytes[6] = (bytes[6]! & 0x0f) | 0x30;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes;
}

/** A proven account's login, or the offline one for `name`. */
export function loginAccount(name: string, proven: ProvenAccount | undefined): LoginAccount {
  if (!proven) return { uuid: offlineUuid(name), name, properties: [] };
  const uuid = Buffer.from(proven.id.replace(/-/g, ''), 'hex');
  if (uuid.length !== 16) throw new LobbyProtocolError(`The session server's id for ${proven.name} is not a UUID: ${JSON.stringify(proven.id)}`);
  return { uuid, name: proven.name, properties: proven.properties };
}

export function loginSuccess(row: WaitingProtocol, account: LoginAccount): Buffer {
  const properties = account.properties.flatMap((p) => [
    encodeString(p.name),
    encodeString(p.value),
    p.signature === undefined ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), encodeString(p.signature)]),
  ]);
  const strict = row.login.strictErrorHandling ? [Buffer.from([0])] : [];
  return encodePacket(row.login.success, account.uuid, encodeString(account.name), encodeVarInt(account.properties.length), ...properties, ...strict);
}

export function keepAlive(row: WaitingProtocol, id: bigint): Buffer {
  const long = Buffer.alloc(8);
  long.writeBigInt64BE(id);
  return encodePacket(row.configuration.clientbound.keepAlive, long);
}

export function transfer(row: WaitingProtocol, host: string, port: number): Buffer {
  return encodePacket(row.configuration.clientbound.transfer, encodeString(host), encodeVarInt(port));
}

/** Disconnect (configuration): since 1.20.3 its reason is NBT, not the login state's JSON string. */
export function configurationDisconnect(row: WaitingProtocol, text: string): Buffer {
  return encodePacket(row.configuration.clientbound.disconnect, nbtString(text));
}

/**
 * Show Dialog (configuration, 1.21.6+): a notice dialog given inline, titled with the wait and saying
 * what happens next. Closing it (Escape, or its button) goes back to the joining screen; the client
 * stays held. Each new one replaces the one shown. Undefined for a client without dialogs.
 */
export function waitingNotice(row: WaitingProtocol, text: string): Buffer | undefined {
  const id = row.configuration.clientbound.showDialog;
  if (id === undefined) return undefined;
  const dialog = nbtCompound([
    ['type', nbtString('minecraft:notice')],
    ['title', nbtString(text)],
    ['body', nbtCompound([
      ['type', nbtString('minecraft:plain_message')],
      ['contents', nbtString(NOTICE_BODY)],
    ])],
  ]);
  return encodePacket(id, dialog);
}

const NOTICE_BODY = 'Stay on this screen: you will be moved in as soon as the server is ready.';

/** A nameless (network) compound tag of already-encoded tags: each written as type, name, payload. */
function nbtCompound(entries: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x0a])];
  for (const [name, tag] of entries) {
    const key = modifiedUtf8(name);
    const head = Buffer.alloc(3);
    head.writeUInt8(tag[0]!, 0);
    head.writeUInt16BE(key.length, 1);
    parts.push(head, key, tag.subarray(1));
  }
  parts.push(Buffer.from([0x00]));
  return Buffer.concat(parts);
}

/**
 * A text component as network NBT: a bare String tag (type 8, u16 byte length, Java's modified UTF-8)
 * is a plain-text component. Cut to 4096 characters, which is at most 12,288 bytes.
 */
export function nbtString(text: string): Buffer {
  const body = modifiedUtf8(fit(text, 4096));
  const head = Buffer.alloc(3);
  head.writeUInt8(0x08, 0);
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Java's DataOutput.writeUTF bytes: NUL as two bytes, each UTF-16 unit (surrogates too) on its own. */
function modifiedUtf8(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x01 && c <= 0x7f) out.push(c);
    else if (c <= 0x7ff) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Buffer.from(out);
}

/**
 * Reads one serverbound configuration packet: a Keep Alive's id, or 'dropped' for anything else a
 * client sends there (its settings, brand, answers to packets the lobby never sends). An id the row
 * does not list is an error: vanilla closes on it too.
 */
export function readConfiguration(row: WaitingProtocol, id: number, packet: PacketReader): { keepAlive: bigint } | 'dropped' {
  const ids = row.configuration.serverbound;
  if (id === ids.keepAlive) {
    const value = packet.take(8, 'keep-alive id').readBigInt64BE(0);
    packet.end('keep-alive');
    return { keepAlive: value };
  }
  if (Object.values(ids).includes(id)) return 'dropped';
  throw new LobbyProtocolError(`Packet 0x${id.toString(16)} is not one a client sends in the configuration state (protocol ${row.releases})`);
}
