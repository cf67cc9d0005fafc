import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../../test/fake-do/server.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import { Store } from '../store/store.js';
import { DriverFactory } from './create.js';

/** Both drivers answer address() from servers/player-address.ts, told of the shared lobby by the factory. */
describe("the drivers' player address", () => {
  let fake: FakeDo;
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    fake = await startFakeDigitalOcean({});
    dir = mkdtempSync(join(tmpdir(), 'ood-address-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'installation-id'), 'cafe0006\n');
    store = Store.open(join(dir, 'data', 'ood.db'));
  });
  afterAll(async () => {
    store?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const driverFor = (raw: Record<string, unknown>) => {
    const config = parseConfig({ dataDir: './data', ...raw }, dir);
    const env = { childEnv: {}, digitalocean: { token: fake.token, apiUrl: fake.url }, pulumiEnv: {} };
    return new DriverFactory(config, env, silentLogger, store.ownSnapshots).create(config.servers[0]!, silentLogger, Date.now);
  };

  it('a proxied server behind the shared lobby: its first host name and the shared lobby\'s port, on either driver', () => {
    const lobby = { mode: 'proxy', publicHost: 'lobby.example.com', hostnames: ['survival.example.com', 'mc.example.org'] };
    const cloud = driverFor({ lobby: { listen: '0.0.0.0:25570' }, servers: [{ id: 'survival', driver: 'digitalocean', digitalocean: { domain: 'example.com' }, lobby }] });
    expect(cloud.address()).toBe('survival.example.com:25570');
    expect(cloud.playerAddress()).toEqual({ host: 'survival.example.com', port: 25570 });
    const home = driverFor({ lobby: { listen: '0.0.0.0:25570' }, servers: [{ id: 'survival', game: { port: 25600 }, lobby: { ...lobby, gamePort: 25601 } }] });
    expect(home.address()).toBe('survival.example.com:25570');
  });

  it("today's rules otherwise: the DNS name, nothing before a droplet, local.publicHost", () => {
    expect(driverFor({ servers: [{ id: 'survival', driver: 'digitalocean', digitalocean: { domain: 'example.com' } }] }).address()).toBe('survival.example.com:25565');
    const noDroplet = driverFor({ servers: [{ id: 'survival', driver: 'digitalocean' }] });
    expect(noDroplet.address()).toBe('');
    expect(noDroplet.playerAddress()).toBeNull();
    expect(driverFor({ servers: [{ id: 'survival', local: { publicHost: '::1' } }] }).address()).toBe('[::1]:25565');
  });
});
