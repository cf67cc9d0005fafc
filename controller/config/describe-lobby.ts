import { formatAddress, playerAddress, type AddressedServer } from '../servers/player-address.js';

/** What `ood config check` says of a server's lobby: what answers on its port while it sleeps, and who wakes it. */
export function describeLobby(server: AddressedServer, ownPort = true, sharedLobby?: { host: string; port: number }): string {
  const { lobby } = server;
  if (lobby.mode === 'off') return `lobby: off (nothing answers on port ${server.game.port} while the server sleeps)`;
  // Without its own port it answers on the shared lobby only (hostname-routes.ts decides).
  const at = ownPort ? `${lobby.host.includes(':') ? `[${lobby.host}]` : lobby.host}:${server.game.port}` : 'the shared lobby only';
  const names = lobby.wakers.length > 0 ? `${lobby.wakers.join(', ')} or anyone allowed to start it on the web` : 'anyone allowed to start it on the web';
  const from = lobby.wakeFrom === 'web-addresses' ? ', from an address where such a person logged in' : '';
  const wakes = `joins by ${names} wake it${from}`;
  if (lobby.mode === 'wake') return `lobby: wake on ${at} (${wakes})`;
  const behind = server.driver === 'local' ? `the game on port ${lobby.gamePort}` : 'the droplet';
  // The players' address as the card and the banner say it (servers/player-address.ts); a droplet's IP is not known here.
  const players = playerAddress(server, { sharedLobby });
  return `lobby: proxy on ${at}, forwarding to ${behind}${players ? `; players use ${formatAddress(players)}` : ''} (${wakes})`;
}
