import { decodeVarInt, LobbyProtocolError, MAX_VARINT_BYTES } from '../varint.js';

const EMPTY = Buffer.alloc(0);

/**
 * Splits a TCP byte stream into Minecraft frames (VarInt length, then that many bytes) as chunks arrive.
 * It keeps at most one unfinished frame, and refuses any frame longer than `maxFrameBytes` as soon as
 * its length is read, so a client cannot make it buffer more than that whatever it announces.
 */
export class FrameDecoder {
  private pending: Buffer = EMPTY;

  constructor(private maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
  }

  /** Lets later frames be up to `maxFrameBytes` long (never lowers the limit). */
  raiseLimit(maxFrameBytes: number): void {
    this.maxFrameBytes = Math.max(this.maxFrameBytes, maxFrameBytes);
  }

  /** Bytes held for an unfinished frame (at most maxFrameBytes + 5). */
  get buffered(): number {
    return this.pending.length;
  }

  /**
   * Adds a chunk and returns each frame it completes: the packet id and data, without the length.
   * The frames may share memory with `chunk`; read them before the next push.
   * Throws LobbyProtocolError on a VarInt over 5 bytes, a length of 0 or less, or over the limit.
   */
  push(chunk: Buffer): Buffer[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const length = decodeVarInt(buf, offset);
      if (!length) break;
      // A frame holds at least its packet id, so 0 is as wrong as a negative length.
      if (length.value <= 0) throw new LobbyProtocolError(`Frame length ${length.value} is not positive`);
      if (length.value > this.maxFrameBytes) throw new LobbyProtocolError(`Frame length ${length.value} is over the limit of ${this.maxFrameBytes} bytes`);
      const end = offset + length.size + length.value;
      if (end > buf.length) break;
      frames.push(buf.subarray(offset + length.size, end));
      offset = end;
    }
    const rest = buf.length - offset;
    if (rest > this.maxFrameBytes + MAX_VARINT_BYTES) throw new LobbyProtocolError(`Unfinished frame of ${rest} bytes is over the limit`);
    // Copy the tail so a large socket chunk is not kept alive by a few pending bytes.
    this.pending = rest === 0 ? EMPTY : Buffer.from(buf.subarray(offset));
    return frames;
  }

  /** Drops what is held: the connection is done with framing. */
  clear(): void {
    this.pending = EMPTY;
  }
}
