import { describe, expect, it } from 'vitest';
import { FrameDecoder } from './frames.js';
import { encodePacket, encodeString, encodeVarInt, LobbyProtocolError } from '../varint.js';

const handshake = encodePacket(0x00, encodeVarInt(769), encodeString('play.example.org'), Buffer.from([0x63, 0xdd]), encodeVarInt(1));
const request = encodePacket(0x00);
const ping = encodePacket(0x01, Buffer.from('0102030405060708', 'hex'));
const stream = Buffer.concat([handshake, request, ping]);
const bodies = [handshake, request, ping].map((p) => p.subarray(1).toString('hex')); // each length fits 1 byte

describe('FrameDecoder', () => {
  it('returns every frame of one chunk, in order, without their lengths', () => {
    const frames = new FrameDecoder(2048).push(stream);
    expect(frames.map((f) => f.toString('hex'))).toEqual(bodies);
  });

  it('gives the same frames however the stream is split into chunks', () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b += 3) {
        const decoder = new FrameDecoder(2048);
        const frames = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)].flatMap((c) => decoder.push(c));
        expect(frames.map((f) => f.toString('hex')), `split at ${a}, ${b}`).toEqual(bodies);
        expect(decoder.buffered).toBe(0);
      }
    }
  });

  it('holds a truncated frame and nothing is returned until it is complete', () => {
    const decoder = new FrameDecoder(2048);
    expect(decoder.push(handshake.subarray(0, 5))).toEqual([]);
    expect(decoder.buffered).toBe(5);
    decoder.clear();
    expect(decoder.buffered).toBe(0);
  });

  it('refuses an oversized frame as soon as its length is read, before its body arrives', () => {
    const decoder = new FrameDecoder(2048);
    expect(() => decoder.push(encodeVarInt(2049))).toThrow(LobbyProtocolError);
    expect(new FrameDecoder(2048).push(Buffer.concat([encodeVarInt(2048), Buffer.alloc(10)]))).toEqual([]);
  });

  it('refuses huge, negative and zero lengths and a VarInt over 5 bytes', () => {
    for (const length of [encodeVarInt(0x7fffffff), encodeVarInt(-1), encodeVarInt(-2147483648), encodeVarInt(0), Buffer.from('808080808001', 'hex')]) {
      expect(() => new FrameDecoder(2048).push(length), length.toString('hex')).toThrow(LobbyProtocolError);
    }
  });

  it('keeps at most one frame’s worth of bytes, copied out of the chunk', () => {
    const decoder = new FrameDecoder(100);
    const chunk = Buffer.concat([encodePacket(0x00, Buffer.alloc(10)), encodeVarInt(100), Buffer.alloc(60)]);
    expect(decoder.push(chunk)).toHaveLength(1);
    expect(decoder.buffered).toBe(61);
    chunk.fill(0xee); // the decoder must not hold a view of the socket's chunk
    const frames = decoder.push(Buffer.alloc(40));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.every((b) => b === 0)).toBe(true);
  });
});
