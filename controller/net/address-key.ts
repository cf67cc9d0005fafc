import { isIPv4, isIPv6 } from 'node:net';

/** The bytes of an IP address as written by Node: 4 for IPv4, 16 for IPv6 (embedded IPv4 tails included). */
export function ipBytes(address: string): number[] {
  if (isIPv4(address)) return address.split('.').map(Number);
  if (!isIPv6(address)) throw new RangeError(`Not an IP address: ${JSON.stringify(address)}`);
  const plain = address.replace(/%.*$/, ''); // a zone (fe80::1%eth0) is not part of the address
  const groups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff];
      return g.split('.').map(Number);
    });
  };
  const [head = '', tail] = plain.split('::');
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  return [...front, ...new Array<number>(16 - front.length - back.length).fill(0), ...back];
}

/**
 * What per-address caps and limits count by (the lobby's and the web pages'): an IPv4 address as it
 * is, an IPv6 address by its /64, the block a single home or host is usually given (counting single
 * IPv6 addresses would let one client hold billions of them). An IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is its IPv4 address.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const bytes = ipBytes(address);
  const prefix = [0, 2, 4, 6].map((i) => ((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${prefix.join(':')}::/64`;
}
