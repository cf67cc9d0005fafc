import { describe, expect, it } from 'vitest';
import { decodeVarInt, encodeVarInt, LobbyProtocolError, varIntSize } from './varint.js';

describe('VarInt', () => {
  it('encodes the examples of the protocol documentation', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [255, 'ff01'],
      [300, 'ac02'],
      [25565, 'ddc701'],
      [2097151, 'ffff7f'],
      [2147483647, 'ffffffff07'],
      [-1, 'ffffffff0f'],
      [-2147483648, '8080808008'],
    ];
    for (const [value, hex] of cases) {
      expect(encodeVarInt(value).toString('hex'), `${value}`).toBe(hex);
      expect(decodeVarInt(Buffer.from(hex, 'hex')), hex).toEqual({ value, size: hex.length / 2 });
    }
  });

  it('round-trips int32 values, negative ones as two’s complement in 5 bytes', () => {
    const values = [0, 1, -1, 63, 64, 16383, 16384, -16384, 0x7fffffff, -0x80000000, 1 << 28, -(1 << 28)];
    for (let i = 0; i < 2000; i++) values.push((Math.random() * 2 ** 32) | 0);
    for (const value of values) {
      const bytes = encodeVarInt(value);
      expect(bytes.length).toBe(varIntSize(value));
      if (value < 0) expect(bytes.length).toBe(5);
      expect(decodeVarInt(bytes)).toEqual({ value, size: bytes.length });
    }
  });

  it('reads at an offset and leaves what follows alone', () => {
    const buf = Buffer.concat([Buffer.from([0xaa, 0xbb]), encodeVarInt(300), Buffer.from([0x01])]);
    expect(decodeVarInt(buf, 2)).toEqual({ value: 300, size: 2 });
  });

  it('says "not yet" for a VarInt cut short, at every cut', () => {
    const bytes = encodeVarInt(-1);
    for (let cut = 0; cut < bytes.length; cut++) expect(decodeVarInt(bytes.subarray(0, cut))).toBeUndefined();
  });

  it('refuses a sixth byte, with or without more data after it', () => {
    expect(() => decodeVarInt(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(LobbyProtocolError);
    expect(() => decodeVarInt(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(/longer than 5 bytes/);
  });

  it('refuses to encode what is not an int32', () => {
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN]) expect(() => encodeVarInt(bad)).toThrow(RangeError);
  });
});
