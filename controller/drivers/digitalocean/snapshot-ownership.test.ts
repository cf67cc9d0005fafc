import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log.js';
import { Store } from '../../store/store.js';
import type { DoClient } from './api/client.js';
import type { Snapshot } from './api/types.js';
import { DropletStop, SnapshotAdoptError } from './droplet-stop.js';
import type { DropletWatch } from './droplet-watch.js';
import { snapshotName, type SnapshotScope } from './snapshot-names.js';
import { SnapshotRecordFile } from './snapshot-record.js';

const T0 = 1_764_000_000;
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** One DigitalOcean account's snapshot list, as `/v2/snapshots` answers it. */
function account(): { snapshots: Snapshot[]; add(id: string, name: string, createdSeconds: number): void; api: DoClient } {
  const snapshots: Snapshot[] = [];
  const api = {
    listSnapshots: () => Promise.resolve([...snapshots]),
    deleteSnapshot: (id: string) => {
      snapshots.splice(snapshots.findIndex((s) => s.id === id), 1);
      return Promise.resolve();
    },
  } as unknown as DoClient;
  const add = (id: string, name: string, createdSeconds: number) =>
    snapshots.push({ id, name, created_at: new Date(createdSeconds * 1000).toISOString(), regions: ['fra1'], resource_id: '1', resource_type: 'droplet', min_disk_size: 25, size_gigabytes: 2, tags: [] });
  return { snapshots, add, api };
}

/** One installation: its own data dir and SQLite store, its server `world`'s stop steps. */
function installation(api: DoClient, id: string, keep = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'ood-own-'));
  dirs.push(dir);
  const store = Store.open(join(dir, 'ood.db'));
  const scope: SnapshotScope = { base: 'ood', installation: id, server: 'world' };
  const watch = { current: () => Promise.resolve(null) } as unknown as DropletWatch;
  const stop = new DropletStop({
    api,
    watch,
    record: new SnapshotRecordFile(join(dir, 'snapshot.json')),
    scope: () => Promise.resolve(scope),
    owned: store.ownSnapshots,
    keep,
    deadlines: {} as never,
    stack: () => Promise.reject(new Error('not used')),
    clock: () => (T0 + 10 * 86_400) * 1000,
    log: silentLogger,
  });
  return { store, scope, stop };
}

describe('which snapshots are a server’s own', () => {
  it('two installations with one server each on one account: neither boots nor prunes the other’s', async () => {
    const cloud = account();
    const a = installation(cloud.api, 'aaaa1111');
    const b = installation(cloud.api, 'bbbb2222');
    cloud.add('1', snapshotName(a.scope, T0), T0);
    cloud.add('2', snapshotName(a.scope, T0 + 100), T0 + 100);
    cloud.add('3', snapshotName(b.scope, T0 + 200), T0 + 200);
    cloud.add('4', 'ood-1764000300', T0 + 300);
    expect((await b.stop.ownSnapshots()).map((s) => s.id)).toEqual(['3']);
    expect(await b.stop.prune('3')).toBe('nothing to prune (1 snapshot)');
    expect(await a.stop.prune('2')).toBe(`pruned ${snapshotName(a.scope, T0)}`);
    // The hand-made ood-<unix seconds> is nobody's: never booted, never pruned.
    expect(cloud.snapshots.map((s) => s.id)).toEqual(['2', '3', '4']);
  });

  it('a clock that ran a day ahead: the last stop’s snapshot is the newest and is never pruned', async () => {
    const cloud = account();
    const a = installation(cloud.api, 'aaaa1111');
    cloud.add('1', snapshotName(a.scope, T0 + 86_400), T0);
    cloud.add('2', snapshotName(a.scope, T0 + 3_600), T0 + 3_600);
    a.store.ownSnapshots.record({ server: 'world', snapshotId: '2', name: snapshotName(a.scope, T0 + 3_600), createdAt: (T0 + 3_600) * 1000, source: 'stop' }, T0 * 1000);
    expect((await a.stop.ownSnapshots())[0]!.id).toBe('2');
    await a.stop.prune(undefined);
    expect(cloud.snapshots.map((s) => s.id)).toEqual(['2']);
  });

  it('a snapshot made by hand is a server’s own only once adopted, and is never pruned', async () => {
    const cloud = account();
    const a = installation(cloud.api, 'aaaa1111');
    cloud.add('1', 'ood-1764000000', T0);
    cloud.add('2', snapshotName(a.scope, T0 + 100), T0 + 100);
    a.store.ownSnapshots.record({ server: 'world', snapshotId: '1', name: 'ood-1764000000', createdAt: T0 * 1000, source: 'adopted' }, T0 * 1000);
    expect((await a.stop.ownSnapshots()).map((s) => s.id)).toEqual(['2', '1']);
    await a.stop.prune('2');
    expect(cloud.snapshots.map((s) => s.id)).toEqual(['1', '2']);
  });

  it('ood snapshots adopt claims a listed snapshot by id or by a name only it has, never an unlisted or ambiguous one', async () => {
    const cloud = account();
    const a = installation(cloud.api, 'aaaa1111');
    cloud.add('1', 'ood-1764000000', T0);
    cloud.add('2', 'copy', T0 + 1);
    cloud.add('3', 'copy', T0 + 2);
    expect(await a.stop.ownSnapshots()).toEqual([]);
    await expect(a.stop.adopt('ood-1764000001')).rejects.toThrow(SnapshotAdoptError);
    await expect(a.stop.adopt('copy')).rejects.toThrow(/2 snapshots are named copy \(ids 2, 3\): adopt one by its id/);
    expect(await a.stop.adopt('ood-1764000000')).toEqual({ id: '1', name: 'ood-1764000000' });
    expect(await a.stop.adopt('3')).toEqual({ id: '3', name: 'copy' });
    expect((await a.stop.ownSnapshots()).map((s) => s.id)).toEqual(['3', '1']);
    expect(a.store.ownSnapshots.list('world').map((r) => r.source)).toEqual(['adopted', 'adopted']);
  });

  it('upgrade: old-style snapshots this server’s stops made (journal) are adopted; others are not', async () => {
    const cloud = account();
    const a = installation(cloud.api, 'aaaa1111', 5);
    cloud.add('7', 'ood-1764000000', T0);
    cloud.add('8', 'ood-1764000500', T0 + 500);
    cloud.add('9', 'ood-1764000900', T0 + 900);
    const row = a.store.journal.intent('world', 'snapshotting', 'snapshot', null, T0 * 1000);
    a.store.journal.outcome(row, 'ok', T0 * 1000, null, 'Snapshot ood-1764000500 (id 8, 2 GB) of droplet 5 completed and is listed');
    expect((await a.stop.ownSnapshots()).map((s) => s.id)).toEqual(['8']);
    expect(a.store.ownSnapshots.list('world').map((r) => [r.snapshotId, r.source])).toEqual([['8', 'upgrade']]);
  });

  it('adding a second server leaves the first one’s snapshots its own (the scope is not derived from the config’s shape)', async () => {
    const cloud = account();
    const a = installation(cloud.api, 'aaaa1111');
    cloud.add('1', snapshotName(a.scope, T0), T0);
    // What the driver factory builds for `world`: the same with one server as with two (controller/drivers/create.ts).
    const { snapshotScopeOf } = await import('./snapshot-names.js');
    const world = { id: 'world', digitalocean: {} };
    expect(snapshotScopeOf(world, 'aaaa1111')).toEqual(a.scope);
    expect(snapshotScopeOf({ id: 'world', digitalocean: { snapshotPrefix: 'mc' } }, 'aaaa1111').base).toBe('mc');
    expect((await a.stop.ownSnapshots()).map((s) => s.id)).toEqual(['1']);
  });
});
