import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../../../test/fake-do/server.js';
import { DoClient } from './api/client.js';
import { findOrphans } from './orphans.js';

/**
 * `orphans.remove` deletes a stray droplet only on proof: it is this installation's (its tag), it is
 * off, and a snapshot of it was taken after its last power-on (DigitalOcean's action history). A
 * droplet another installation kept on purpose is reported and never touched.
 */
describe('findOrphans with remove', () => {
  let fake: FakeDo;
  let api: DoClient;
  const log = pino({ level: 'silent' });
  const OURS = 'aaaa0001';
  const servers = [{ server: 'world', stackDropletId: async () => null }];

  beforeEach(async () => {
    // No machine backend: nothing binds an address, but droplets get 127.0.21.N like every test of this file's owner.
    fake = await startFakeDigitalOcean({ ipBase: '127.0.21', actionDelayMs: 20, dropletBootMs: 20 });
    api = new DoClient({ baseUrl: fake.url, token: fake.token });
  });
  afterEach(async () => {
    await fake.close();
  });

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** DigitalOcean's times have whole seconds: a later event needs a later second. */
  const nextSecond = () => pause(1_100);

  async function droplet(tags: string[]): Promise<number> {
    const res = await fetch(`${fake.url}/v2/droplets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ood-world', region: 'fra1', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags }),
    });
    expect(res.status).toBe(202);
    const { id } = ((await res.json()) as { droplet: { id: number } }).droplet;
    for (let i = 0; i < 200 && fake.state.droplets.get(id)!.status !== 'active'; i++) await pause(10);
    return id;
  }

  async function act(id: number, action: Parameters<DoClient['dropletAction']>[1]): Promise<void> {
    const started = await api.dropletAction(id, action);
    await api.waitForAction(started.id, { timeoutMs: 10_000, pollMs: 10 });
  }

  const exists = (id: number) => fake.state.droplets.has(id) && fake.state.droplets.get(id)!.status !== 'archive';

  it('keeps a droplet of its own whose only snapshot is older than its last power-on, and says why', async () => {
    const id = await droplet(['ood', 'ood-world', `ood:installation:${OURS}`]);
    await act(id, { type: 'power_off' });
    await act(id, { type: 'snapshot', name: 'before-it-was-played-on' });
    await nextSecond();
    // Powered on and played on again: the snapshot no longer holds its world.
    await act(id, { type: 'power_on' });
    await act(id, { type: 'power_off' });
    const [orphan] = await findOrphans(api, servers, { remove: true, installation: OURS, log });
    expect(orphan).toMatchObject({ kind: 'droplet', server: 'world', dropletId: id, removed: false });
    expect(orphan!.message).toMatch(/not deleted: no snapshot taken after its last power-on \(power_on at \d{4}-\d\d-\d\dT/);
    expect(exists(id)).toBe(true);
  });

  it('never removes another installation\'s droplet: it is reported as foreign', async () => {
    const id = await droplet(['ood', 'ood-world', 'ood:installation:bbbb0002']);
    await act(id, { type: 'power_off' });
    await nextSecond();
    // Off, with a snapshot taken after its last power-on: proof enough, were it this installation's.
    await act(id, { type: 'snapshot', name: 'theirs' });
    const [orphan] = await findOrphans(api, servers, { remove: true, installation: OURS, log });
    expect(orphan).toMatchObject({ kind: 'foreign', server: 'world', dropletId: id, removed: false });
    expect(orphan!.message).toMatch(/belongs to installation bbbb0002.*never touched/);
    expect(exists(id)).toBe(true);
  });

  it('never removes a droplet that carries no installation tag (its owner cannot be told)', async () => {
    const id = await droplet(['ood', 'ood-world']);
    await act(id, { type: 'power_off' });
    await nextSecond();
    await act(id, { type: 'snapshot', name: 'untagged' });
    const [orphan] = await findOrphans(api, servers, { remove: true, installation: OURS, log });
    expect(orphan).toMatchObject({ kind: 'droplet', dropletId: id, removed: false });
    expect(orphan!.message).toMatch(/not deleted: it does not carry this installation's tag ood:installation:aaaa0001/);
    expect(exists(id)).toBe(true);
  });

  it('keeps a droplet of its own that is not off', async () => {
    const id = await droplet(['ood', 'ood-world', `ood:installation:${OURS}`]);
    await nextSecond();
    await act(id, { type: 'snapshot', name: 'while-running' });
    const [orphan] = await findOrphans(api, servers, { remove: true, installation: OURS, log });
    expect(orphan).toMatchObject({ dropletId: id, removed: false });
    expect(orphan!.message).toMatch(/not deleted: it is active, not off/);
    expect(exists(id)).toBe(true);
  });

  it('keeps a droplet of its own whose snapshot was taken while it still ran (a live snapshot), though it is off now', async () => {
    const id = await droplet(['ood', 'ood-world', `ood:installation:${OURS}`]);
    await nextSecond();
    // DigitalOcean snapshots a running droplet too; whatever the game wrote after it is on the disk alone.
    await act(id, { type: 'snapshot', name: 'while-running' });
    await nextSecond();
    await act(id, { type: 'power_off' });
    const [orphan] = await findOrphans(api, servers, { remove: true, installation: OURS, log });
    expect(orphan).toMatchObject({ kind: 'droplet', dropletId: id, removed: false });
    expect(orphan!.message).toMatch(/not deleted: no snapshot taken after it was last powered down/);
    expect(exists(id)).toBe(true);
  });

  it('deletes a droplet of its own that is off with a snapshot taken after its last power-on', async () => {
    const id = await droplet(['ood', 'ood-world', `ood:installation:${OURS}`]);
    await act(id, { type: 'power_off' });
    await nextSecond();
    await act(id, { type: 'snapshot', name: 'after' });
    const [orphan] = await findOrphans(api, servers, { remove: true, installation: OURS, log });
    expect(orphan).toMatchObject({ kind: 'droplet', dropletId: id, removed: true });
    expect(orphan!.message).toMatch(/deleted it \(snapshot after, taken .* after its last power-on/);
    expect(exists(id)).toBe(false);
  });

  it('without remove, reads only: another installation\'s droplet is still reported as foreign', async () => {
    const id = await droplet(['ood', 'ood-world', 'ood:installation:bbbb0002']);
    const seen = await findOrphans(api, servers, { remove: false, installation: OURS, log });
    expect(seen.map((o) => [o.kind, o.dropletId, o.removed])).toEqual([['foreign', id, false]]);
    expect(fake.requests.some((r) => r.method === 'GET' && r.path === `/v2/droplets/${id}/actions`)).toBe(false);
  });
});
