import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../../../test/fake-do/server.js';
import { DoClient } from './api/client.js';
import { DropletStop, type ServerStackLike } from './droplet-stop.js';
import { DropletWatch } from './droplet-watch.js';
import { SnapshotRecordFile } from './snapshot-record.js';

describe('DropletStop.destroy', () => {
  let fake: FakeDo | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a delete answered 204 that leaves the droplet (one the stack did not own) is not reported done', async () => {
    fake = await startFakeDigitalOcean();
    dir = mkdtempSync(join(tmpdir(), 'ood-stop-'));
    const api = new DoClient({ baseUrl: fake.url, token: fake.token });
    const res = await fetch(`${fake.url}/v2/droplets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ood-world', region: 'fra1', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags: ['ood', 'ood-world'] }),
    });
    const { droplet } = (await res.json()) as { droplet: { id: number } };
    for (let i = 0; i < 100 && fake.state.droplets.get(droplet.id)!.status !== 'active'; i++) await new Promise((r) => setTimeout(r, 20));
    fake.state.droplets.get(droplet.id)!.status = 'off';
    const snapshot = fake.addSnapshot({ name: 'ood-1700000000' });
    const record = new SnapshotRecordFile(join(dir, 'snapshot.json'));
    await record.write({ saved: { dropletId: droplet.id, snapshotId: String(snapshot.id), name: snapshot.name, sizeGigabytes: 1 } });
    // A stack that owns nothing: the droplet is deleted by id, and the delete does not take.
    const stack = { destroy: async () => {} } as unknown as ServerStackLike;
    fake.faults.deletesIgnored = true;
    const stop = new DropletStop({
      api,
      // The droplet carries no installation tag; the stack's record says whose it is (this server's).
      watch: new DropletWatch(api, 'ood-world', 30_000, { installation: async () => 'aaaa0001', stackDropletId: async () => droplet.id, log: pino({ level: 'silent' }) }),
      record,
      prefix: 'ood',
      keep: 2,
      deadlines: { provisioning: 1, booting: 1, stopping: 1, poweringOff: 1, snapshotting: 1, destroying: 1 },
      stack: async () => stack,
      clock: Date.now,
      log: pino({ level: 'silent' }),
      pollMs: 10,
    } as unknown as ConstructorParameters<typeof DropletStop>[0]);
    await expect(stop.destroy('ood: test')).rejects.toThrow(new RegExp(`accepted the deletion of droplet ${droplet.id}, but it still exists \\(off\\)`));
    expect(fake.state.droplets.has(droplet.id)).toBe(true);
  });
  it('a listing that leaves out the droplet the stack records is no licence to destroy it: it is looked up by id and must be proven saved', async () => {
    fake = await startFakeDigitalOcean();
    dir = mkdtempSync(join(tmpdir(), 'ood-stop-'));
    const api = new DoClient({ baseUrl: fake.url, token: fake.token });
    const res = await fetch(`${fake.url}/v2/droplets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ood-world', region: 'fra1', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags: ['ood', 'ood-world', 'ood:installation:aaaa0001'] }),
    });
    const { droplet } = (await res.json()) as { droplet: { id: number } };
    for (let i = 0; i < 100 && fake.state.droplets.get(droplet.id)!.status !== 'active'; i++) await new Promise((r) => setTimeout(r, 20));
    // Snapshotted once, then powered on and played on again: the record of that snapshot was forgotten (invariant 7).
    fake.addSnapshot({ name: 'ood-1700000000' });
    const record = new SnapshotRecordFile(join(dir, 'snapshot.json'));
    await record.write({});
    let destroyed = 0;
    // The stack records the droplet; its destroy would delete it.
    const stack = { destroy: async () => void destroyed++, dropletId: async () => droplet.id } as unknown as ServerStackLike;
    fake.faults.omitFromLists(5, 'ood-world');
    const stop = new DropletStop({
      api,
      watch: new DropletWatch(api, 'ood-world', 30_000, { installation: async () => 'aaaa0001', stackDropletId: async () => droplet.id, log: pino({ level: 'silent' }) }),
      record,
      prefix: 'ood',
      keep: 2,
      deadlines: { provisioning: 1, booting: 1, stopping: 1, poweringOff: 1, snapshotting: 1, destroying: 1 },
      stack: async () => stack,
      clock: Date.now,
      log: pino({ level: 'silent' }),
      pollMs: 10,
    } as unknown as ConstructorParameters<typeof DropletStop>[0]);
    await expect(stop.destroy('ood: test')).rejects.toThrow(new RegExp(`Droplet ${droplet.id} is active.*Not destroying it`));
    expect(destroyed).toBe(0);
    expect(fake.state.droplets.has(droplet.id)).toBe(true);
  });
});
