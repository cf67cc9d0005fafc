import { describe, expect, it } from 'vitest';
import { hostnameRoutes, listensOnOwnPort } from './hostname-routes.js';
import { parseConfig } from './load.js';

const parse = (data: Record<string, unknown>) => parseConfig(data, '/base');
const server = (id: string, port: number, lobby: Record<string, unknown>) => ({ id, game: { port, rconPort: port + 100 }, lobby: { mode: 'wake', ...lobby } });

describe('the shared lobby in the config', () => {
  it('routes each name, case and trailing dot aside, to the server claiming it, and unknown names to the default', () => {
    const config = parse({
      lobby: { listen: '0.0.0.0:25565' },
      servers: [server('survival', 25570, { hostnames: ['Survival.Example.com.', 'mc.example.com'], default: true }), server('creative', 25571, { mode: 'proxy', gamePort: 25581, hostnames: ['creative.example.com'] }), server('quiet', 25572, {})],
    });
    const routes = hostnameRoutes(config);
    expect([...routes.names]).toEqual([
      ['survival.example.com', 'survival'],
      ['mc.example.com', 'survival'],
      ['creative.example.com', 'creative'],
    ]);
    expect(routes.defaultId).toBe('survival');
    expect(routes.served).toEqual(['survival', 'creative']);
    // Reached through the shared lobby: no lobby on their own port unless ownPort says so.
    expect(config.servers.map((s) => listensOnOwnPort(config, s))).toEqual([false, false, true]);
  });

  it('keeps a server on its own port too when ownPort says so', () => {
    const config = parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, { hostnames: ['survival.example.com'], ownPort: true })] });
    expect(listensOnOwnPort(config, config.servers[0]!)).toBe(true);
  });

  it('refuses two servers claiming one name, naming both and the name', () => {
    expect(() =>
      parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, { hostnames: ['mc.example.com'] }), server('creative', 25571, { hostnames: ['MC.example.com.'] })] }),
    ).toThrow(/servers\[1\]\.lobby\.hostnames\[0\]: host name mc\.example\.com is claimed by both survival and creative/);
  });

  it('refuses two defaults', () => {
    expect(() => parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, { default: true }), server('creative', 25571, { default: true })] })).toThrow(
      /servers\[1\]\.lobby\.default: survival and creative are both lobby\.default/,
    );
  });

  it('refuses names or a default without lobby.listen, and says what to add', () => {
    expect(() => parse({ servers: [server('survival', 25570, { hostnames: ['survival.example.com'] })] })).toThrow(
      /servers\[0\]\.lobby\.hostnames: lobby\.hostnames needs the shared lobby, which is not configured: add `lobby: \{ listen: 0\.0\.0\.0:25565 \}`/,
    );
    expect(() => parse({ servers: [server('survival', 25570, { default: true })] })).toThrow(/servers\[0\]\.lobby\.default: lobby\.default needs the shared lobby/);
  });

  it('refuses names on a server whose lobby is off', () => {
    expect(() => parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, { mode: 'off', hostnames: ['survival.example.com'] })] })).toThrow(
      /lobby\.hostnames needs lobby\.mode wake or proxy/,
    );
  });

  it('refuses a lobby kept off its own port that no name reaches', () => {
    expect(() => parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, { ownPort: false })] })).toThrow(
      /servers\[0\]\.lobby\.ownPort: lobby\.ownPort false leaves survival's lobby nowhere to answer/,
    );
    expect(() => parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, { ownPort: false, default: true })] })).not.toThrow();
  });

  it('refuses a shared lobby port another listener of this machine takes', () => {
    expect(() => parse({ lobby: { listen: '0.0.0.0:25570' }, servers: [server('survival', 25570, { hostnames: ['survival.example.com'] })] })).toThrow(
      /lobby\.listen: port 25570 is already used by servers\[0\]\.game\.port/,
    );
    expect(() => parse({ listen: { port: 8080 }, lobby: { listen: '[::]:8080' }, servers: [server('survival', 25570, {})] })).toThrow(/lobby\.listen: port 8080 is already used by listen\.port \(the API\)/);
    expect(() => parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, {})] })).not.toThrow();
  });

  it('lets a DigitalOcean server reached only through the shared lobby keep no port here', () => {
    // Its game port is on its droplet and its lobby is the shared one: a local server may use the number.
    const cloud = { id: 'cloud', driver: 'digitalocean', game: { port: 25570 }, lobby: { mode: 'wake', hostnames: ['cloud.example.com'] } };
    expect(() => parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [cloud, server('home', 25570, {})] })).not.toThrow();
    expect(() => parse({ lobby: { listen: '0.0.0.0:25565' }, servers: [{ ...cloud, lobby: { ...cloud.lobby, ownPort: true } }, server('home', 25570, {})] })).toThrow(/port 25570 is already used/);
  });
});
