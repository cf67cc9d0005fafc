import type { ServerConfig } from '../config/schema.js';

/** Where a server's players connect: a host name or address, and a port. */
export interface PlayerAddress {
  host: string;
  port: number;
}

/** What of a server's config decides its player address. */
export type AddressedServer = Pick<ServerConfig, 'id' | 'driver' | 'game' | 'lobby' | 'local' | 'digitalocean'>;

/** What is known beyond the server's own config. */
export interface AddressFacts {
  /** The shared lobby's listen address (top-level `lobby.listen`), when the config has one. */
  sharedLobby?: { host: string; port: number } | undefined;
  /** The public IPv4 of the server's droplet (DigitalOcean), once there is one. */
  dropletIpv4?: string | null | undefined;
}

/**
 * The one decision of where a server's players connect: what the card, the banner, the lobby's
 * messages and the waiting room's Transfer all say. Null while it cannot be known yet (a DigitalOcean
 * server with no domain and no droplet).
 *
 * - Proxy mode through the shared lobby (it has hostnames): its first hostname and the shared lobby's
 *   port; the name the client puts in its handshake is what routes it there.
 * - Proxy mode with `lobby.publicHost`: that host and the game port, where the lobby listens.
 * - DigitalOcean: `<id>.<domain>`, or the droplet's IPv4, and the game port.
 * - Local: `local.publicHost` and the game port.
 *
 * In wake mode the players' address is the game's own: the lobby answers there only while it sleeps.
 */
export function playerAddress(server: AddressedServer, facts: AddressFacts = {}): PlayerAddress | null {
  const { lobby, game } = server;
  if (lobby.mode === 'proxy') {
    const name = lobby.hostnames[0];
    if (facts.sharedLobby && name !== undefined) return { host: name, port: facts.sharedLobby.port };
    // The shared lobby's default without names: any name reaches it there, and its own port has no
    // lobby unless ownPort says so (hostname-routes.ts), so game.port would be a dead address.
    const sharedHost = lobby.publicHost ?? (server.driver === 'local' ? server.local.publicHost : undefined);
    if (facts.sharedLobby && lobby.default && lobby.ownPort !== true && sharedHost) return { host: sharedHost, port: facts.sharedLobby.port };
    if (lobby.publicHost) return { host: lobby.publicHost, port: game.port };
  }
  if (server.driver === 'local') return { host: server.local.publicHost, port: game.port };
  // A DNS name survives the droplet; its IPv4 changes every session.
  const host = server.digitalocean.domain ? `${server.id}.${server.digitalocean.domain}` : facts.dropletIpv4;
  return host ? { host, port: game.port } : null;
}

/** `host:port` as players type it; an IPv6 address in brackets. */
export function formatAddress(address: PlayerAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}
