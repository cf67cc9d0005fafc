import { isIPv4 } from 'node:net';
import { Command, IPv4Address, IPv4ProxyAddress, IPv6Address, IPv6ProxyAddress, TransportProtocol, UnspecProxyAddress, V2ProxyProtocol } from 'proxy-protocol-js';
import { ipBytes } from '../../net/address-key.js';

export interface Endpoint {
  address: string;
  port: number;
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * The PROXY protocol v2 header (HAProxy's proxy-protocol.txt, section 2.2) that tells the game who the
 * client is: `client` is its address and port, `lobby` the address and port it connected to. TCP over
 * IPv4 when both are IPv4 (a dual-stack socket's ::ffff:a.b.c.d included), else TCP over IPv6.
 */
export function proxyV2Header(client: Endpoint, lobby: Endpoint): Buffer {
  const from = client.address.replace(MAPPED, '$1');
  const to = lobby.address.replace(MAPPED, '$1');
  const address =
    isIPv4(from) && isIPv4(to)
      ? new IPv4ProxyAddress(IPv4Address.createFrom(ipBytes(from)), client.port, IPv4Address.createFrom(ipBytes(to)), lobby.port)
      : new IPv6ProxyAddress(IPv6Address.createFrom(ipBytes(v6(from))), client.port, IPv6Address.createFrom(ipBytes(v6(to))), lobby.port);
  return Buffer.from(new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM, address).build());
}

/** An IPv4 address beside an IPv6 one is sent in its IPv4-mapped form. */
const v6 = (address: string) => (isIPv4(address) ? `::ffff:${address}` : address);

/**
 * The v2 header of a connection the proxy makes on its own behalf (section 2.2: command LOCAL, family
 * UNSPEC, no addresses): OoD's status probe of a game that expects the header on every connection.
 */
export function proxyV2LocalHeader(): Buffer {
  return Buffer.from(new V2ProxyProtocol(Command.LOCAL, TransportProtocol.UNSPEC, UnspecProxyAddress.from(new Uint8Array(0))).build());
}
