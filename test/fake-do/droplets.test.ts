/** Droplets, actions and snapshots behave as DigitalOcean's do, with and without a machine backend. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/wait.js';
import { startFakeDigitalOcean, type FakeDo, type FakeDoOptions } from './server.js';
import { MemoryMachines, openSshEd25519, recordingClient } from './testing.js';

const SMALL = { name: 'ood-survival', region: 'nyc3', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags: ['ood', 'ood-survival'] };

describe('the fake DigitalOcean API: droplets, actions, snapshots', () => {
  let fake: FakeDo | undefined;
  const start = async (opts: FakeDoOptions = {}) => {
    fake = await startFakeDigitalOcean({ actionDelayMs: 20, dropletBootMs: 20, ...opts });
    return { fake, ...recordingClient(fake.url, fake.token) };
  };
  afterEach(async () => {
    expect(fake?.backgroundErrors ?? []).toEqual([]);
    await fake?.close();
    fake = undefined;
  });

  it('keeps a droplet `new`, without addresses, until its machine has booted; then `active` with a public 127.0.1.N', async () => {
    const machines = new MemoryMachines();
    let boot!: () => void;
    machines.createGate = new Promise((resolve) => (boot = resolve));
    const { call } = await start({ machines });
    const key = (await call('POST', '/v2/account/keys', { name: 'k', public_key: openSshEd25519() })).body.ssh_key;
    const created = await call('POST', '/v2/droplets', { ...SMALL, ssh_keys: [key.id], user_data: '#cloud-config\n' });
    expect(created.status).toBe(202);
    expect(created.body.droplet).toMatchObject({ status: 'new', networks: { v4: [], v6: [] }, tags: ['ood', 'ood-survival'] });
    const id = created.body.droplet.id as number;
    expect(created.body.links.actions[0]).toMatchObject({ rel: 'create', href: `${fake!.url}/v2/actions/${created.body.links.actions[0].id}` });

    await new Promise((r) => setTimeout(r, 100));
    expect((await call('GET', `/v2/droplets/${id}`)).body.droplet.status).toBe('new');
    boot();
    const droplet = await waitUntil('active', async () => {
      const d = (await call('GET', `/v2/droplets/${id}`)).body.droplet;
      return d.status === 'active' && d;
    });
    expect(droplet.networks.v4.find((n: { type: string }) => n.type === 'public').ip_address).toBe('127.0.1.2');
    expect(machines.specs.get(id)).toEqual({ id, name: 'ood-survival', ipv4: '127.0.1.2', userData: '#cloud-config\n', authorizedKeys: [key.public_key], image: { kind: 'distribution', slug: 'debian-13-x64' } });
    expect((await call('GET', `/v2/actions/${created.body.links.actions[0].id}`)).body.action).toMatchObject({ type: 'create', status: 'completed' });
    expect(fake!.state.tags.has('ood-survival')).toBe(true);
  });

  it('ends the create action `errored` and leaves the droplet `off` when the machine cannot be made', async () => {
    const machines = new MemoryMachines();
    machines.failCreate = new Error('no room for another loopback host');
    const { call } = await start({ machines });
    const created = (await call('POST', '/v2/droplets', SMALL)).body;
    const action = await waitUntil('create ends', async () => {
      const a = (await call('GET', `/v2/actions/${created.links.actions[0].id}`)).body.action;
      return a.status !== 'in-progress' && a;
    });
    expect(action.status).toBe('errored');
    expect(fake!.state.actions.get(action.id)?.error).toMatch(/no room/);
    expect((await call('GET', `/v2/droplets/${created.droplet.id}`)).body.droplet.status).toBe('off');
  });

  it('refuses unknown images, sizes, regions and keys with 422', async () => {
    const { call } = await start();
    for (const bad of [{ image: 'windows-11' }, { image: 424242 }, { size: 's-64vcpu' }, { region: 'mars1' }, { ssh_keys: ['00:11'] }, { name: 'bad name' }]) {
      const a = await call('POST', '/v2/droplets', { ...SMALL, ...bad });
      expect(a.status, JSON.stringify(bad)).toBe(422);
      expect(a.body.id).toBe('unprocessable_entity');
    }
    expect(fake!.state.droplets.size).toBe(0);
  });

  it('shuts a droplet down gracefully (`off`), powers it on again, and deletes it with its machine', async () => {
    const machines = new MemoryMachines();
    const { call } = await start({ machines });
    const id = (await call('POST', '/v2/droplets', SMALL)).body.droplet.id as number;
    await waitUntil('active', async () => (await call('GET', `/v2/droplets/${id}`)).body.droplet.status === 'active');
    const runAction = async (body: object) => {
      const a = (await call('POST', `/v2/droplets/${id}/actions`, body)).body.action;
      expect(a).toMatchObject({ status: 'in-progress', completed_at: null, resource_id: id, resource_type: 'droplet', region_slug: 'nyc3' });
      return waitUntil(`${a.type} done`, async () => {
        const now = (await call('GET', `/v2/droplets/${id}/actions/${a.id}`)).body.action;
        return now.status !== 'in-progress' && now;
      });
    };
    expect(await runAction({ type: 'shutdown' })).toMatchObject({ status: 'completed', completed_at: expect.any(String) });
    expect((await call('GET', `/v2/droplets/${id}`)).body.droplet.status).toBe('off');
    expect(machines.calls).toContain(`powerOff ${id} graceful`);
    expect((await runAction({ type: 'power_on' })).status).toBe('completed');
    expect((await call('GET', `/v2/droplets/${id}`)).body.droplet.status).toBe('active');
    const listed = (await call('GET', `/v2/droplets/${id}/actions`)).body;
    expect(listed.actions.map((a: { type: string }) => a.type)).toEqual(['power_on', 'shutdown', 'create']);

    expect((await call('DELETE', `/v2/droplets/${id}`)).status).toBe(204);
    expect(machines.calls.at(-1)).toBe(`destroy ${id}`);
    expect((await call('GET', `/v2/droplets/${id}`)).body).toMatchObject({ id: 'not_found' });
  });

  it('lists a snapshot only after the listing delay, keeps its archive in the data dir, and builds a droplet from it', async () => {
    const machines = new MemoryMachines();
    const dataDir = mkdtempSync(join(tmpdir(), 'fake-do-test-'));
    try {
      const { call } = await start({ machines, dataDir, snapshotListingDelayMs: 400 });
      const id = (await call('POST', '/v2/droplets', SMALL)).body.droplet.id as number;
      await waitUntil('active', async () => (await call('GET', `/v2/droplets/${id}`)).body.droplet.status === 'active');
      const action = (await call('POST', `/v2/droplets/${id}/actions`, { type: 'snapshot', name: 'ood-1764000000' })).body.action;
      await waitUntil('snapshot action done', async () => (await call('GET', `/v2/actions/${action.id}`)).body.action.status === 'completed');
      const completedAt = Date.now();
      expect((await call('GET', '/v2/snapshots?resource_type=droplet')).body).toMatchObject({ snapshots: [], meta: { total: 0 } });
      const snapshot = await waitUntil('snapshot listed', async () => (await call('GET', '/v2/snapshots?resource_type=droplet')).body.snapshots[0]);
      expect(Date.now() - completedAt).toBeGreaterThanOrEqual(300);
      expect(snapshot).toMatchObject({ name: 'ood-1764000000', resource_id: String(id), resource_type: 'droplet', regions: ['nyc3'], size_gigabytes: 3, min_disk_size: 25 });
      const archive = join(dataDir, `snapshot-${snapshot.id}.tar`);
      expect(machines.calls).toContain(`snapshot ${id} ${archive}`);
      expect((await call('GET', `/v2/droplets/${id}`)).body.droplet.snapshot_ids).toEqual([Number(snapshot.id)]);
      expect((await call('GET', `/v2/images/${snapshot.id}`)).body.image).toMatchObject({ type: 'snapshot', public: false, slug: null });

      const restored = (await call('POST', '/v2/droplets', { ...SMALL, name: 'ood-restored', image: snapshot.id })).body.droplet;
      await waitUntil('restored active', async () => (await call('GET', `/v2/droplets/${restored.id}`)).body.droplet.status === 'active');
      expect(machines.specs.get(restored.id)?.image).toEqual({ kind: 'snapshot', id: snapshot.id, archive });
      expect(machines.specs.get(restored.id)?.ipv4).toBe('127.0.1.3');

      writeFileSync(archive, 'x');
      expect((await call('DELETE', `/v2/snapshots/${snapshot.id}`)).status).toBe(204);
      expect(existsSync(archive)).toBe(false);
      expect((await call('GET', `/v2/snapshots/${snapshot.id}`)).status).toBe(404);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('seeds a base snapshot that droplets can be created from, and refuses one too small for it', async () => {
    const { call } = await start();
    const base = fake!.addSnapshot({ name: 'ood-1700000000', minDiskSize: 50 });
    expect((await call('GET', '/v2/snapshots')).body.snapshots.map((s: { id: string }) => s.id)).toEqual([String(base.id)]);
    expect((await call('POST', '/v2/droplets', { ...SMALL, image: base.id })).status).toBe(422);
    expect((await call('POST', '/v2/droplets', { ...SMALL, size: 's-1vcpu-2gb', image: String(base.id) })).status).toBe(202);
  });

  it('pages droplet lists: per_page, page, links.pages.next/last and meta.total', async () => {
    const { call } = await start({ dropletBootMs: 0 });
    for (let i = 0; i < 5; i++) expect((await call('POST', '/v2/droplets', { ...SMALL, name: `ood-${i}`, tags: i < 4 ? ['ood'] : ['other'] })).status).toBe(202);
    const first = (await call('GET', '/v2/droplets?tag_name=ood&per_page=2')).body;
    expect(first.meta.total).toBe(4);
    expect(first.links.pages).toEqual({ next: `${fake!.url}/v2/droplets?tag_name=ood&per_page=2&page=2`, last: `${fake!.url}/v2/droplets?tag_name=ood&per_page=2&page=2` });
    const names: string[] = first.droplets.map((d: { name: string }) => d.name);
    let next: string | undefined = first.links.pages.next;
    while (next) {
      const page = (await call('GET', next.slice(fake!.url.length))).body;
      names.push(...page.droplets.map((d: { name: string }) => d.name));
      expect(page.links.pages.prev).toBeDefined();
      next = page.links.pages.next;
    }
    expect(names).toEqual(['ood-0', 'ood-1', 'ood-2', 'ood-3']);
    expect((await call('GET', '/v2/droplets?per_page=500')).body.droplets).toHaveLength(5);
    expect((await call('GET', '/v2/droplets?page=0')).status).toBe(400);
  });

  it('gives sizes with their prices', async () => {
    const { call } = await start();
    const sizes = (await call('GET', '/v2/sizes')).body.sizes as { slug: string; price_hourly: number; price_monthly: number; available: boolean }[];
    expect(sizes.find((s) => s.slug === 's-1vcpu-1gb')).toMatchObject({ price_monthly: 6, price_hourly: 0.00893, available: true });
    expect(sizes.find((s) => s.slug === 's-2vcpu-4gb')).toMatchObject({ price_monthly: 24 });
  });

  it('fingerprints SSH keys as `ssh-keygen -E md5` does, and finds them by fingerprint', async () => {
    const { call } = await start();
    const dir = mkdtempSync(join(tmpdir(), 'fake-do-key-'));
    try {
      const publicKey = openSshEd25519('someone@host');
      writeFileSync(join(dir, 'k.pub'), `${publicKey}\n`);
      const expected = /MD5:(\S+)/.exec(execFileSync('ssh-keygen', ['-E', 'md5', '-lf', join(dir, 'k.pub')], { encoding: 'utf8' }))?.[1];
      const key = (await call('POST', '/v2/account/keys', { name: 'k', public_key: publicKey })).body.ssh_key;
      expect(key.fingerprint).toBe(expected);
      expect((await call('GET', `/v2/account/keys/${expected}`)).body.ssh_key.id).toBe(key.id);
      expect((await call('POST', '/v2/account/keys', { name: 'again', public_key: publicKey })).status).toBe(422);
      expect((await call('POST', '/v2/droplets', { ...SMALL, ssh_keys: [expected] })).status).toBe(202);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
