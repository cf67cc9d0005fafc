import { OodError } from '../errors.js';

/**
 * Minecraft's framing (MINECRAFT.md), shared by the status ping and the lobby.
 *
 * Bytes the other side sent that are not Minecraft's protocol (a VarInt over 5 bytes, a length out of
 * bounds, a packet the current state does not allow): the lobby closes that one connection, never itself.
 */
export class LobbyProtocolError extends OodError {
  readonly retryable = false;
}

/** At most 5 bytes carry an int32 (5 × 7 = 35 bits); vanilla rejects a sixth. */
export const MAX_VARINT_BYTES = 5;

/** A VarInt of an int32: 7 bits a byte, low group first, high bit = more. Negative numbers take 5 bytes. */
export function encodeVarInt(value: number): Buffer {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
    throw new RangeError(`VarInt value ${value} is not an int32`);
  }
  const bytes: number[] = [];
  let v = value >>> 0; // two's complement, as Java's int
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0);
  return Buffer.from(bytes);
}

export function varIntSize(value: number): number {
  return encodeVarInt(value).length;
}

/**
 * Reads a VarInt at `offset`. Returns undefined when the buffer ends before the VarInt does (more bytes
 * may come); throws LobbyProtocolError when it runs past 5 bytes. The value is a signed int32.
 */
export function decodeVarInt(buf: Uint8Array, offset = 0): { value: number; size: number } | undefined {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= buf.length) return undefined;
    const byte = buf[offset + i]!;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) return { value: value | 0, size: i + 1 };
  }
  throw new LobbyProtocolError(`VarInt is longer than ${MAX_VARINT_BYTES} bytes`);
}

/** A String: VarInt byte length, then UTF-8. */
export function encodeString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([encodeVarInt(bytes.length), bytes]);
}

/** A framed packet: VarInt length of (id + data), VarInt id, data. */
export function encodePacket(id: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat([encodeVarInt(id), ...fields]);
  return Buffer.concat([encodeVarInt(body.length), body]);
}
