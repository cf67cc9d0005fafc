import { describe, expect, it } from 'vitest';
import { listensOnOwnPort, reachedThroughSharedLobby } from '../config/hostname-routes.js';
import { parseConfig } from '../config/load.js';
import { playerAddress } from './player-address.js';

/**
 * Attack on the one player-address decision: in proxy mode the game binds only lobby.gamePort on
 * 127.0.0.1 (local driver), so the address players are given (card, MOTD, the waiting room's Transfer)
 * must be a port one of OoD's lobbies listens on: the shared lobby's, when it reaches the server, or
 * the server's own game port, when its own lobby listens there (hostname-routes.ts decides both).
 */
function check(lobby: Record<string, unknown>) {
  const config = parseConfig({ lobby: { listen: '0.0.0.0:25570' }, servers: [{ id: 'survival', game: { port: 25600 }, local: { publicHost: 'mc.example.com' }, lobby: { mode: 'proxy', gamePort: 25601, ...lobby } }] }, '/base');
  const server = config.servers[0]!;
  const address = playerAddress(server, { sharedLobby: config.lobby.listen });
  const listening = [...(reachedThroughSharedLobby(config, server) ? [config.lobby.listen!.port] : []), ...(listensOnOwnPort(config, server) ? [server.game.port] : [])];
  return { address, listening };
}

describe('a proxied server\'s player address is where a lobby listens', () => {
  for (const [what, lobby] of [
    ['the default server of the shared lobby, without hostnames', { default: true }],
    ['the default server without hostnames, with lobby.publicHost', { default: true, publicHost: 'play.example.com' }],
    ['a server with hostnames', { hostnames: ['survival.example.com'] }],
    ['the default server with hostnames', { default: true, hostnames: ['survival.example.com'] }],
    ['the default server that keeps its own port', { default: true, ownPort: true }],
    ['a server not reached through the shared lobby', {}],
  ] as const) {
    it(what, () => {
      const { address, listening } = check(lobby);
      expect(listening.length, 'the config reaches the server somewhere').toBeGreaterThan(0);
      expect(listening, `players are sent to port ${address?.port}`).toContain(address?.port);
    });
  }
});
