import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

/**
 * A DigitalOcean server's lobby listens on THIS machine, on the server's game.port: it holds that
 * port as much as a local game does. The local driver's port check trusts that any socket of this
 * controller on a local game's port is that server's own lobby (port-check.ts), which holds only if
 * no other server's lobby may listen there.
 */
describe('a DigitalOcean server whose lobby listens here', () => {
  it('may not share its port with a local server', () => {
    expect(() =>
      parseConfig(
        {
          servers: [
            { id: 'cloud', driver: 'digitalocean', lobby: { mode: 'wake' } },
            { id: 'home', lobby: { mode: 'wake' } },
          ],
        },
        '/base',
      ),
    ).toThrow(/servers\[1\]\.game\.port: port 25565 is already used by servers\[0\]\.game\.port \(its lobby\)/);
  });

  it('may not share it with the API', () => {
    expect(() => parseConfig({ servers: [{ id: 'cloud', driver: 'digitalocean', game: { port: 8080 }, lobby: { mode: 'proxy', publicHost: 'mc.example.com' } }] }, '/base')).toThrow(
      /servers\[0\]\.game\.port: port 8080 is already used by listen\.port \(the API\)/,
    );
  });

  it('holds nothing here when its lobby is off: the port is on its droplet', () => {
    expect(() => parseConfig({ servers: [{ id: 'cloud', driver: 'digitalocean' }, { id: 'home', lobby: { mode: 'wake' } }] }, '/base')).not.toThrow();
  });
});
