import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../../test/fake-do/server.js';
import { DoClient } from '../drivers/digitalocean/api/client.js';
import { DigitalOceanDriver } from '../drivers/digitalocean/do-driver.js';
import { DropletStop } from '../drivers/digitalocean/droplet-stop.js';
import { DropletWatch } from '../drivers/digitalocean/droplet-watch.js';
import { fromApi, ownSnapshots, snapshotName, type SnapshotScope } from '../drivers/digitalocean/snapshot-names.js';
import { SnapshotRecordFile } from '../drivers/digitalocean/snapshot-record.js';
import { chosenStartImage, pruneGuard, releaseRestoreHold, spendStartImage } from '../drivers/digitalocean/start-image.js';
import { Store } from '../store/store.js';
import { digitalOceanVersions } from './versions.js';
import { chooseWorld } from './world-actions.js';

const T0 = 1_764_000_000;
const scope: SnapshotScope = { base: 'ood', installation: '1a2b3c4d', server: 'world' };

/** A restore on DigitalOcean: the chosen snapshot becomes the start image, and a prune keeps it and every newer one while the choice stands. */
describe('DigitalOcean restore', () => {
  let fake: FakeDo | undefined;
  let dir: string | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    store?.close();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records the chosen snapshot as the start image, and the prune keeps it and the newer ones (keepSnapshots 1)', async () => {
    fake = await startFakeDigitalOcean();
    dir = mkdtempSync(join(tmpdir(), 'ood-do-restore-'));
    store = Store.open(join(dir, 'ood.db'));
    const api = new DoClient({ baseUrl: fake.url, token: fake.token });
    for (let i = 0; i < 3; i++) fake.addSnapshot({ name: snapshotName(scope, T0 + i * 3600), createdAt: new Date((T0 + i * 3600) * 1000).toISOString() });
    const own = ownSnapshots((await api.listSnapshots()).map(fromApi), scope, new Set());
    const versions = digitalOceanVersions({ snapshots: own, chosen: null, adoptedIds: new Set(), sessions: [] });
    expect(versions.map((v) => v.next)).toEqual([true, false, false]);

    // The oldest is restored: only a record is written, the start image provision honours.
    const oldest = versions[2]!;
    const driver = Object.create(DigitalOceanDriver.prototype) as DigitalOceanDriver;
    await chooseWorld(driver, oldest, { dataDir: dir, server: 'world', by: 'admin-token', now: T0 * 1000 });
    const chosen = chosenStartImage(dir, 'world');
    expect(chosen).toMatchObject({ snapshotId: oldest.snapshotId, name: oldest.name, source: 'restore', by: 'admin-token' });
    expect(digitalOceanVersions({ snapshots: own, chosen, adoptedIds: new Set(), sessions: [] }).map((v) => [v.next, v.chosen])).toEqual([
      [false, false],
      [false, false],
      [true, true],
    ]);

    const stop = new DropletStop({
      api,
      watch: new DropletWatch(api, 'ood-world', 30_000, { installation: async () => scope.installation, stackDropletId: async () => null, log: pino({ level: 'silent' }) }),
      record: new SnapshotRecordFile(join(dir, 'snapshot.json')),
      scope: async () => scope,
      owned: store.ownSnapshots,
      keep: 1,
      deadlines: { provisioning: 1, booting: 1, stopping: 1, poweringOff: 1, snapshotting: 1, destroying: 1 },
      stack: async () => {
        throw new Error('no stack in this test');
      },
      chosen: () => pruneGuard(dir!, 'world'),
      clock: Date.now,
      log: pino({ level: 'silent' }),
      pollMs: 10,
    } as ConstructorParameters<typeof DropletStop>[0]);
    expect(await stop.prune(undefined)).toMatch(/^nothing to prune/);
    expect((await api.listSnapshots()).length).toBe(3);

    // A droplet is made from it: the next start no longer boots it, but the stop that saves that
    // droplet again still keeps it and the newer ones; only the prune after that stop is the normal one.
    expect(await spendStartImage(dir, 'world', oldest.snapshotId)).toBe(true);
    expect(chosenStartImage(dir, 'world')).toBeNull();
    expect(await stop.prune(undefined)).toMatch(/^nothing to prune/);
    expect((await api.listSnapshots()).length).toBe(3);
    await releaseRestoreHold(dir, 'world');
    expect(await stop.prune(undefined)).toMatch(/^pruned /);
    expect((await api.listSnapshots()).length).toBe(1);
  });
});
