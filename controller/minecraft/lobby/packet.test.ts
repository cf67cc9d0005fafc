import { describe, expect, it } from 'vitest';
import { encodeString, encodeVarInt, LobbyProtocolError } from '../varint.js';
import { PacketReader } from './packet.js';

describe('PacketReader', () => {
  it('reads fields in order and checks the packet ends', () => {
    const reader = new PacketReader(Buffer.concat([encodeVarInt(-1), encodeString('héllo'), Buffer.from([0x63, 0xdd])]));
    expect(reader.varInt('a')).toBe(-1);
    expect(reader.string('b', 16)).toBe('héllo');
    expect(reader.unsignedShort('c')).toBe(25565);
    expect(() => reader.end('packet')).not.toThrow();
  });

  it('refuses strings over their character or byte limits, negative lengths and bad UTF-8', () => {
    const bad = [
      encodeString('x'.repeat(17)),
      Buffer.concat([encodeVarInt(49), Buffer.alloc(49, 0x61)]), // over 16 × 3 bytes
      Buffer.concat([encodeVarInt(-5), Buffer.alloc(5)]),
      Buffer.concat([encodeVarInt(2), Buffer.from([0xc3, 0x28])]),
      Buffer.concat([encodeVarInt(10), Buffer.from('abc')]), // cut short
    ];
    for (const buf of bad) expect(() => new PacketReader(buf).string('name', 16), buf.toString('hex')).toThrow(LobbyProtocolError);
  });

  it('counts characters as Java does (UTF-16 units), so 16 non-ASCII characters still fit', () => {
    expect(new PacketReader(encodeString('é'.repeat(16))).string('name', 16)).toBe('é'.repeat(16));
  });

  it('refuses leftovers and fields cut short', () => {
    expect(() => new PacketReader(Buffer.from([0x01, 0x02])).end('ping')).toThrow(/unexpected bytes/);
    expect(() => new PacketReader(Buffer.from([0x01])).unsignedShort('port')).toThrow(LobbyProtocolError);
    expect(() => new PacketReader(Buffer.from([0x80])).varInt('id')).toThrow(/cut short/);
  });
});
