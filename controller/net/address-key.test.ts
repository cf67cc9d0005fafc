import { describe, expect, it } from 'vitest';
import { addressKey, ipBytes } from './address-key.js';

describe('address keys', () => {
  it('counts IPv4 addresses one by one and IPv6 addresses by their /64', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('reads IPv6 text into 16 bytes, with :: anywhere and an IPv4 tail', () => {
    expect(ipBytes('::1')).toEqual([...new Array(15).fill(0), 1]);
    expect(ipBytes('2001:db8::')).toEqual([0x20, 0x01, 0x0d, 0xb8, ...new Array(12).fill(0)]);
    expect(ipBytes('::ffff:192.0.2.1')).toEqual([...new Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]);
    expect(ipBytes('fe80::1%eth0')).toEqual([0xfe, 0x80, ...new Array(13).fill(0), 1]);
    expect(ipBytes('10.1.2.3')).toEqual([10, 1, 2, 3]);
    expect(() => ipBytes('not an address')).toThrow(RangeError);
  });
});
