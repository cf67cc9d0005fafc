import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { formatAddress, playerAddress, type AddressFacts } from './player-address.js';

/** One server parsed from `ood.yaml`'s shape (defaults filled in), and the shared lobby if the file has one. */
function parsed(server: Record<string, unknown>, top: Record<string, unknown> = {}) {
  const config = parseConfig({ ...top, servers: [{ id: 'survival', ...server }] }, '/base');
  return { server: config.servers[0]!, sharedLobby: config.lobby.listen };
}

const at = (server: Record<string, unknown>, facts: AddressFacts = {}, top: Record<string, unknown> = {}) => {
  const p = parsed(server, top);
  return playerAddress(p.server, { sharedLobby: p.sharedLobby, ...facts });
};

describe('where a server\'s players connect', () => {
  it('local: local.publicHost and the game port', () => {
    expect(at({ game: { port: 25600 }, local: { publicHost: 'mc.example.com' } })).toEqual({ host: 'mc.example.com', port: 25600 });
    expect(at({})).toEqual({ host: 'localhost', port: 25565 });
  });

  it('local in wake mode: the game itself, where the lobby answers only while it sleeps', () => {
    expect(at({ local: { publicHost: '127.0.0.1' }, lobby: { mode: 'wake' } })).toEqual({ host: '127.0.0.1', port: 25565 });
  });

  it('DigitalOcean with a domain: <id>.<domain>, droplet or not', () => {
    expect(at({ driver: 'digitalocean', digitalocean: { domain: 'example.com' } })).toEqual({ host: 'survival.example.com', port: 25565 });
    expect(at({ driver: 'digitalocean', digitalocean: { domain: 'example.com' } }, { dropletIpv4: '203.0.113.7' })).toEqual({ host: 'survival.example.com', port: 25565 });
  });

  it("DigitalOcean without a domain: the droplet's IPv4, unknown before there is a droplet", () => {
    expect(at({ driver: 'digitalocean', game: { port: 25600 } }, { dropletIpv4: '203.0.113.7' })).toEqual({ host: '203.0.113.7', port: 25600 });
    expect(at({ driver: 'digitalocean' })).toBeNull();
    expect(at({ driver: 'digitalocean' }, { dropletIpv4: null })).toBeNull();
  });

  it("DigitalOcean in wake mode: the droplet's address, the transfer target once it answers", () => {
    expect(at({ driver: 'digitalocean', lobby: { mode: 'wake' } }, { dropletIpv4: '203.0.113.7' })).toEqual({ host: '203.0.113.7', port: 25565 });
  });

  it("proxy mode with lobby.publicHost: the lobby's host and the game port, never the droplet's", () => {
    const proxy = { driver: 'digitalocean', lobby: { mode: 'proxy', publicHost: 'lobby.example.com' }, digitalocean: { domain: 'example.com' } };
    expect(at(proxy, { dropletIpv4: '203.0.113.7' })).toEqual({ host: 'lobby.example.com', port: 25565 });
    expect(at({ lobby: { mode: 'proxy', gamePort: 25601, publicHost: 'home.example.com' } })).toEqual({ host: 'home.example.com', port: 25565 });
  });

  it('local proxy mode without a public host: local.publicHost and the lobby\'s port (game.port), not lobby.gamePort', () => {
    expect(at({ local: { publicHost: 'mc.example.com' }, lobby: { mode: 'proxy', gamePort: 25601 } })).toEqual({ host: 'mc.example.com', port: 25565 });
  });

  it("proxy mode through the shared lobby: the first hostname and the shared lobby's port", () => {
    const shared = { lobby: { listen: '0.0.0.0:25570' } };
    const server = { driver: 'digitalocean', game: { port: 25600 }, lobby: { mode: 'proxy', publicHost: 'lobby.example.com', hostnames: ['Survival.Example.com.', 'mc.example.org'] } };
    expect(at(server, { dropletIpv4: '203.0.113.7' }, shared)).toEqual({ host: 'survival.example.com', port: 25570 });
    // Without hostnames the shared lobby cannot be told which server is meant: the server's own port.
    expect(at({ ...server, lobby: { mode: 'proxy', publicHost: 'lobby.example.com' } }, {}, shared)).toEqual({ host: 'lobby.example.com', port: 25600 });
  });

  it('wake mode through the shared lobby: the game itself (the lobby only wakes it)', () => {
    const shared = { lobby: { listen: '0.0.0.0:25570' } };
    expect(at({ driver: 'digitalocean', lobby: { mode: 'wake', hostnames: ['survival.example.com'] } }, { dropletIpv4: '203.0.113.7' }, shared)).toEqual({ host: '203.0.113.7', port: 25565 });
    expect(at({ local: { publicHost: '127.0.0.1' }, lobby: { mode: 'wake', hostnames: ['survival.example.com'] } }, {}, shared)).toEqual({ host: '127.0.0.1', port: 25565 });
  });

  it('is written host:port, an IPv6 address in brackets', () => {
    expect(formatAddress({ host: 'survival.example.com', port: 25565 })).toBe('survival.example.com:25565');
    expect(formatAddress({ host: '2001:db8::7', port: 25565 })).toBe('[2001:db8::7]:25565');
  });
});
