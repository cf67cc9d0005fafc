import { describe, expect, it } from 'vitest';
import { legacyAnswer, probeLegacy } from './legacy.js';

const status = { motd: 'World §asleeps', versionName: 'OoD 1.21.4', online: 2, max: 20 };

/** Reads a 0xFF kick packet as a legacy client does. */
function kickText(packet: Buffer): string {
  expect(packet[0]).toBe(0xff);
  const chars = packet.readUInt16BE(1);
  expect(packet.length).toBe(3 + chars * 2);
  return Buffer.from(packet.subarray(3)).swap16().toString('utf16le');
}

describe('legacy ping', () => {
  it('tells the legacy pings apart from modern frames', () => {
    expect(probeLegacy(Buffer.from([0xfe]), true)).toBe('wait');
    expect(probeLegacy(Buffer.from([0xfe]), false)).toBe('beta');
    expect(probeLegacy(Buffer.from([0xfe, 0x01]), true)).toBe('v1');
    expect(probeLegacy(Buffer.from([0xfe, 0x01, 0xfa, 0x00, 0x0b]), true)).toBe('v1');
    expect(probeLegacy(Buffer.from([0xfe, 0x05]), true)).toBe('not-legacy'); // a modern frame of 766 bytes
    expect(probeLegacy(Buffer.from([0x10, 0x00]), true)).toBe('not-legacy');
    expect(probeLegacy(Buffer.alloc(0), true)).toBe('wait');
  });

  it('answers 1.4–1.6 clients with §1, protocol 127, version, motd and counts', () => {
    expect(kickText(legacyAnswer('v1', status)).split('\0')).toEqual(['§1', '127', 'OoD 1.21.4', 'World §asleeps', '2', '20']);
  });

  it('answers beta 1.8–1.3 clients with motd§online§max, without a § inside the motd', () => {
    expect(kickText(legacyAnswer('beta', status))).toBe('World asleeps§2§20');
  });

  it('stays within the 256 characters legacy clients read, without splitting a surrogate pair', () => {
    const long = { ...status, motd: '😀'.repeat(300), online: -3, max: Number.NaN };
    for (const kind of ['v1', 'beta'] as const) {
      const text = kickText(legacyAnswer(kind, long));
      expect(text.length).toBeLessThanOrEqual(256);
      expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
      expect(text.endsWith(kind === 'v1' ? '\x000\x000' : '§0§0')).toBe(true);
    }
  });
});
