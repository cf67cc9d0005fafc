import { decodeVarInt, LobbyProtocolError } from '../varint.js';

/** Java's UTF-8 for protocol strings: a character takes at most 3 bytes (surrogate pairs 2 × 3). */
const MAX_BYTES_PER_CHAR = 3;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the fields of one packet (its id and data, without the length). Every read checks bounds and
 * throws LobbyProtocolError, so a handler can read fields in order and let one catch close the connection.
 */
export class PacketReader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  varInt(what: string): number {
    const read = decodeVarInt(this.buf, this.offset);
    if (!read) throw new LobbyProtocolError(`${what} is cut short`);
    this.offset += read.size;
    return read.value;
  }

  /** A VarInt byte length and UTF-8, at most `maxChars` UTF-16 code units, as Java counts them. */
  string(what: string, maxChars: number): string {
    const length = this.varInt(`${what}'s length`);
    if (length < 0 || length > maxChars * MAX_BYTES_PER_CHAR) throw new LobbyProtocolError(`${what} has a byte length of ${length} (at most ${maxChars * MAX_BYTES_PER_CHAR})`);
    const bytes = this.take(length, what);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch (err) {
      throw new LobbyProtocolError(`${what} is not valid UTF-8`, { cause: err });
    }
    if (text.length > maxChars) throw new LobbyProtocolError(`${what} has ${text.length} characters (at most ${maxChars})`);
    return text;
  }

  unsignedShort(what: string): number {
    return this.take(2, what).readUInt16BE(0);
  }

  take(length: number, what: string): Buffer {
    if (this.remaining < length) throw new LobbyProtocolError(`${what} is cut short`);
    const bytes = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }

  /** Vanilla refuses a packet with bytes left over; so does the lobby, where it reads a packet whole. */
  end(what: string): void {
    if (this.remaining !== 0) throw new LobbyProtocolError(`${what} has ${this.remaining} unexpected bytes at its end`);
  }
}
