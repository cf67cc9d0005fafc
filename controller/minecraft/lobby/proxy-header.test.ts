import { describe, expect, it } from 'vitest';
import { proxyV2Header, proxyV2LocalHeader } from './proxy-header.js';

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

describe('PROXY protocol v2 header', () => {
  it('lays out a TCP over IPv4 header byte for byte', () => {
    const header = proxyV2Header({ address: '203.0.113.7', port: 51234 }, { address: '::ffff:192.0.2.1', port: 25565 });
    expect([...header]).toEqual([...SIGNATURE, 0x21, 0x11, 0, 12, 203, 0, 113, 7, 192, 0, 2, 1, 51234 >> 8, 51234 & 0xff, 25565 >> 8, 25565 & 0xff]);
  });

  it('lays out a TCP over IPv6 header byte for byte', () => {
    const header = proxyV2Header({ address: '2001:db8::7', port: 40000 }, { address: '::1', port: 25565 });
    const client = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 7];
    const lobby = [...new Array(15).fill(0), 1];
    expect([...header]).toEqual([...SIGNATURE, 0x21, 0x21, 0, 36, ...client, ...lobby, 40000 >> 8, 40000 & 0xff, 25565 >> 8, 25565 & 0xff]);
  });
});

describe('PROXY protocol v2 LOCAL header', () => {
  it('is the signature, LOCAL, UNSPEC and no addresses', () => {
    expect([...proxyV2LocalHeader()]).toEqual([...SIGNATURE, 0x20, 0x00, 0, 0]);
  });
});
