import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../../../test/fake-do/server.js';
import { DoClient } from './api/client.js';
import { findPendingCreates } from './pending-creates.js';

/**
 * A killed update's pending creates are looked up by what DigitalOcean keeps of them. Another
 * installation on the same account, with the same server id, has a droplet and a firewall of the very
 * same names: adopting either into this installation's stack would have its destroy delete them.
 */
describe('findPendingCreates beside another installation with the same server id', () => {
  let fake: FakeDo;
  let api: DoClient;
  const log = pino({ level: 'silent' });
  const OURS = 'ood:installation:aaaa0001';
  const THEIRS = 'ood:installation:bbbb0002';

  beforeEach(async () => {
    // No machine backend: nothing binds an address.
    fake = await startFakeDigitalOcean({ actionDelayMs: 20, dropletBootMs: 20 });
    api = new DoClient({ baseUrl: fake.url, token: fake.token });
  });
  afterEach(async () => {
    await fake.close();
  });

  async function post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as T;
  }
  const droplet = async (tags: string[]) =>
    (await post<{ droplet: { id: number } }>('/v2/droplets', { name: 'ood-world', region: 'fra1', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags })).droplet.id;
  const firewall = async (dropletIds: number[]) =>
    (await post<{ firewall: { id: string } }>('/v2/firewalls', {
      name: 'ood-world',
      droplet_ids: dropletIds,
      inbound_rules: [{ protocol: 'tcp', ports: '22', sources: { addresses: ['0.0.0.0/0'] } }],
      outbound_rules: [{ protocol: 'tcp', ports: 'all', destinations: { addresses: ['0.0.0.0/0'] } }],
    })).firewall.id;

  const pendingDroplet = { urn: 'urn:droplet', type: 'digitalocean:index/droplet:Droplet', inputs: { name: 'ood-world', tags: ['ood', 'ood-world', OURS] } };

  it("never takes the other installation's droplet for this one's pending create", async () => {
    await droplet(['ood', 'ood-world', THEIRS]);
    expect(await findPendingCreates([pendingDroplet], api, 'world', log)).toEqual({ 'urn:droplet': null });
  });

  it("never takes the other installation's droplet for a create asked by a program before the installation tag", async () => {
    // Killed mid-update under an older OoD, then upgraded: the pending create's inputs carry only `ood` and
    // `ood-world`, which every installation's droplet of this server carries too.
    await droplet(['ood', 'ood-world', THEIRS]);
    const older = { ...pendingDroplet, inputs: { name: 'ood-world', tags: ['ood', 'ood-world'] } };
    expect(await findPendingCreates([older], api, 'world', log)).toEqual({ 'urn:droplet': null });
    const ours = await droplet(['ood', 'ood-world']);
    expect(await findPendingCreates([older], api, 'world', log)).toEqual({ 'urn:droplet': String(ours) });
  });

  it("finds this installation's droplet beside the other's", async () => {
    await droplet(['ood', 'ood-world', THEIRS]);
    const ours = await droplet(['ood', 'ood-world', OURS]);
    expect(await findPendingCreates([pendingDroplet], api, 'world', log)).toEqual({ 'urn:droplet': String(ours) });
  });

  it("never takes the other installation's firewall: a firewall is this stack's only if it lists this stack's droplet", async () => {
    const theirs = await droplet(['ood', 'ood-world', THEIRS]);
    const ours = await droplet(['ood', 'ood-world', OURS]);
    await firewall([theirs]);
    const pending = { urn: 'urn:fw', type: 'digitalocean:index/firewall:Firewall', inputs: { name: 'ood-world', dropletIds: [ours] } };
    expect(await findPendingCreates([pending], api, 'world', log)).toEqual({ 'urn:fw': null });
    const mine = await firewall([ours]);
    expect(await findPendingCreates([pending], api, 'world', log)).toEqual({ 'urn:fw': mine });
  });
});
