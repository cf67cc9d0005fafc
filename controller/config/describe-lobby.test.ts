import { describe, expect, it } from 'vitest';
import { describeLobby } from './describe-lobby.js';
import { parseConfig } from './load.js';

describe("config check's lobby line says where players connect, as the card does", () => {
  it('a proxy behind the shared lobby: its host name and the shared lobby\'s port', () => {
    const config = parseConfig({ lobby: { listen: '0.0.0.0:25570' }, servers: [{ id: 'survival', driver: 'digitalocean', lobby: { mode: 'proxy', publicHost: 'lobby.example.com', hostnames: ['survival.example.com'] } }] }, '/base');
    expect(describeLobby(config.servers[0]!, false, config.lobby.listen)).toContain('; players use survival.example.com:25570 (');
  });

  it("a proxy on its own port: the lobby's public host and the game port", () => {
    const config = parseConfig({ servers: [{ id: 'survival', driver: 'digitalocean', game: { port: 25600 }, lobby: { mode: 'proxy', publicHost: 'lobby.example.com' } }] }, '/base');
    expect(describeLobby(config.servers[0]!)).toBe('lobby: proxy on 0.0.0.0:25600, forwarding to the droplet; players use lobby.example.com:25600 (joins by anyone allowed to start it on the web wake it)');
  });
});
