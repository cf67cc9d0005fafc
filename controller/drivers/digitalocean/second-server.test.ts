import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../../../test/fake-do/server.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../log.js';
import { Store } from '../../store/store.js';
import { DriverFactory } from '../create.js';

const droplet = { region: 'fra1', size: 's-1vcpu-2gb', sshSources: ['127.0.0.0/8'] };

/**
 * Adding a second DigitalOcean server to the config used to change the first one's snapshot prefix from
 * `ood` to `ood-<id>`: it no longer saw its own snapshots, said "build the image first", and a build
 * started it on an empty world. The server's snapshots must stay its own whatever the config's shape.
 */
describe('a second DigitalOcean server in the config', () => {
  let fake: FakeDo;
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    fake = await startFakeDigitalOcean({});
    dir = mkdtempSync(join(tmpdir(), 'ood-second-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'installation-id'), 'cafe0005\n');
    store = Store.open(join(dir, 'data', 'ood.db'));
  });
  afterAll(async () => {
    store?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const archivesOfWorld = async (servers: unknown[]) => {
    const config = parseConfig({ dataDir: './data', servers }, dir);
    const env = { childEnv: {}, digitalocean: { token: fake.token, apiUrl: fake.url }, pulumiEnv: {} };
    const driver = new DriverFactory(config, env, silentLogger, store.ownSnapshots).create(config.servers[0]!, silentLogger, Date.now);
    return (await driver.archives()).map((a) => a.name);
  };

  it("leaves the first server's snapshots its own: it starts from the same world", async () => {
    const alone = [{ id: 'world', driver: 'digitalocean', digitalocean: droplet }];
    // What the first server's stops name, with it alone in the config.
    fake.addSnapshot({ name: `ood-cafe0005-world-${Math.floor(Date.now() / 1000) - 3600}` });
    // A world a stop of the old release made and recorded: still its own after the change.
    const old = fake.addSnapshot({ name: `ood-${Math.floor(Date.now() / 1000) - 7200}` });
    store.ownSnapshots.record({ server: 'world', snapshotId: String(old.id), name: old.name, createdAt: Date.parse(old.createdAt), source: 'stop' }, Date.now());
    const before = await archivesOfWorld(alone);
    expect(before).toHaveLength(2);
    const after = await archivesOfWorld([...alone, { id: 'creative', driver: 'digitalocean', digitalocean: droplet }]);
    expect(after).toEqual(before);
  });
});
