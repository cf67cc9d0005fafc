/**
 * The fake against DigitalOcean's own OpenAPI description: every endpoint the fake serves is driven
 * through success and error answers (401, 400, 404, 422, 429, 500), and every answer's status, body
 * and declared headers must match the operation's response in the description.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiContract } from './openapi-contract.js';
import { startFakeDigitalOcean, type FakeDo } from './server.js';
import { openSshEd25519, recordingClient, type Answer } from './testing.js';
import { waitUntil } from '../helpers/wait.js';

/** Operations of the description the fake does not serve (custom image upload and image actions). */
const NOT_SERVED = new Set(['images_create_custom', 'images_update', 'imageActions_list', 'imageActions_post']);

describe('the fake DigitalOcean API follows the OpenAPI description', () => {
  const contract = new OpenApiContract();
  let fake: FakeDo;
  let exchanges: Answer[];

  beforeAll(async () => {
    fake = await startFakeDigitalOcean({ actionDelayMs: 5, dropletBootMs: 5, domains: ['example.com'] });
    const client = recordingClient(fake.url, fake.token);
    exchanges = client.exchanges;
    await driveEveryEndpoint(fake, client.call);
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('answers every request with a declared status, a body matching its schema and the declared headers', () => {
    const problems = exchanges.flatMap((x) => contract.check(x));
    expect(problems).toEqual([]);
    expect(exchanges.length).toBeGreaterThan(70);
    expect(fake.backgroundErrors).toEqual([]);
  });

  it('was driven through every operation it serves, each with a success', () => {
    const succeeded = new Set(exchanges.filter((x) => x.status < 300).map((x) => contract.find(x.method, x.path)?.op.operationId));
    const missing = [...contract.operations().values()].filter((id) => !NOT_SERVED.has(id) && !succeeded.has(id));
    expect(missing).toEqual([]);
  });

  it('gave each kind of error at least once, in the documented shape', () => {
    const statuses = new Set(exchanges.map((x) => x.status));
    for (const s of [400, 401, 404, 422, 429, 500]) expect(statuses, `status ${s}`).toContain(s);
    for (const x of exchanges.filter((e) => e.status >= 400)) {
      expect(x.body).toEqual({ id: expect.any(String), message: expect.any(String), request_id: expect.any(String) });
    }
    const limited = exchanges.find((x) => x.status === 429);
    expect(limited?.headers['retry-after']).toBe('3');
    expect(limited?.body.id).toBe('too_many_requests');
    expect(exchanges.find((x) => x.status === 401)?.body.id).toBe('unauthorized');
  });

  it('rejects answers that break the description: a missing required field, a wrong type, an unknown field, a missing header', () => {
    const good = exchanges.find((x) => x.method === 'GET' && /^\/v2\/droplets\/\d+$/.test(x.path) && x.status === 200);
    if (!good) throw new Error('the drive had no GET /v2/droplets/{id}');
    expect(contract.check(good)).toEqual([]);
    const broken = (change: (body: Answer['body'], headers: Record<string, string>) => void): string[] => {
      const x = structuredClone(good);
      change(x.body, x.headers);
      return contract.check(x);
    };
    expect(broken((b) => delete b.droplet.id).join('\n')).toMatch(/must have required property 'id'/);
    expect(broken((b) => (b.droplet.id = String(b.droplet.id))).join('\n')).toMatch(/body\/droplet\/id must be integer/);
    expect(broken((b) => (b.droplet.status = 'running')).join('\n')).toMatch(/body\/droplet\/status must be equal to one of the allowed values/);
    expect(broken((b) => (b.droplet.networks.v4[0].ip_address = 'not-an-ip')).join('\n')).toMatch(/must match format "ipv4"/);
    expect(broken((b) => (b.droplet.sizeSlug = 's-1vcpu-1gb')).join('\n')).toMatch(/must NOT have unevaluated properties/);
    expect(broken((b) => (b.droplet.kernel = null))).toEqual([]);
    expect(broken((b) => (b.droplet.next_backup_window = 5)).join('\n')).toMatch(/next_backup_window must be object/);
    expect(broken((_b, h) => delete h['ratelimit-remaining']).join('\n')).toMatch(/header ratelimit-remaining missing/);
    expect(contract.check({ ...good, status: 203 }).join('\n')).toMatch(/status not declared/);
  });
});

type Call = (method: string, path: string, body?: unknown, opts?: { token?: string | null }) => Promise<Answer>;

async function driveEveryEndpoint(fake: FakeDo, call: Call): Promise<void> {
  const ok = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const a = await call(method, path, body);
    if (a.status >= 300) throw new Error(`${method} ${path} answered ${a.status}: ${JSON.stringify(a.body)}`);
    return a;
  };
  const fails = async (status: number, method: string, path: string, body?: unknown, opts?: { token?: string | null }): Promise<void> => {
    const a = await call(method, path, body, opts);
    if (a.status !== status) throw new Error(`${method} ${path} answered ${a.status}, expected ${status}: ${JSON.stringify(a.body)}`);
  };
  const actionDone = (id: number) => waitUntil(`action ${id}`, async () => (await ok('GET', `/v2/actions/${id}`)).body.action.status !== 'in-progress', 5000, 10);

  await ok('GET', '/v2/account');
  await fails(401, 'GET', '/v2/account', undefined, { token: 'wrong' });
  await fails(401, 'GET', '/v2/droplets', undefined, { token: null });
  await ok('GET', '/v2/sizes');
  await ok('GET', '/v2/sizes?per_page=3&page=2');

  const key = (await ok('POST', '/v2/account/keys', { name: 'ood-survival', public_key: openSshEd25519() })).body.ssh_key;
  await fails(422, 'POST', '/v2/account/keys', { name: 'bad', public_key: 'ssh-ed25519 not-a-key' });
  await ok('GET', '/v2/account/keys');
  await ok('GET', `/v2/account/keys/${key.id}`);
  await ok('GET', `/v2/account/keys/${key.fingerprint}`);
  await ok('PUT', `/v2/account/keys/${key.id}`, { name: 'ood-survival-2' });
  await fails(404, 'GET', '/v2/account/keys/1');

  const create = { name: 'ood-survival', region: 'fra1', size: 's-1vcpu-2gb', image: 'debian-13-x64', ssh_keys: [key.fingerprint], tags: ['ood', 'ood-survival'], user_data: '#cloud-config\n', monitoring: true, ipv6: true };
  const droplet = (await ok('POST', '/v2/droplets', create)).body.droplet;
  await fails(422, 'POST', '/v2/droplets', { ...create, image: 'no-such-image' });
  await fails(422, 'POST', '/v2/droplets', { ...create, size: 's-99vcpu' });
  await fails(400, 'POST', '/v2/droplets', '{not json');
  await ok('GET', `/v2/droplets/${droplet.id}`);
  await waitUntil('droplet active', async () => (await ok('GET', `/v2/droplets/${droplet.id}`)).body.droplet.status === 'active', 5000, 10);
  await ok('GET', '/v2/droplets?tag_name=ood&per_page=1');
  await fails(404, 'GET', '/v2/droplets/999');

  // A shutdown that hangs keeps the droplet busy: a snapshot is refused until power_off ends it.
  fake.faults.shutdownNeverFinishes = true;
  await ok('POST', `/v2/droplets/${droplet.id}/actions`, { type: 'shutdown' });
  await fails(422, 'POST', `/v2/droplets/${droplet.id}/actions`, { type: 'snapshot', name: 'ood-1' });
  fake.faults.shutdownNeverFinishes = false;
  await actionDone((await ok('POST', `/v2/droplets/${droplet.id}/actions`, { type: 'power_off' })).body.action.id);
  await fails(422, 'POST', `/v2/droplets/${droplet.id}/actions`, { type: 'snapshot' });
  const snap = (await ok('POST', `/v2/droplets/${droplet.id}/actions`, { type: 'snapshot', name: 'ood-1764000000' })).body.action;
  await actionDone(snap.id);
  const snap2 = (await ok('POST', `/v2/droplets/${droplet.id}/actions`, { type: 'snapshot', name: 'ood-1764000100' })).body.action;
  await actionDone(snap2.id);
  await ok('GET', `/v2/droplets/${droplet.id}/actions`);
  await ok('GET', `/v2/droplets/${droplet.id}/actions/${snap.id}`);
  await fails(404, 'GET', `/v2/droplets/${droplet.id}/actions/1`);
  await fails(404, 'GET', '/v2/actions/1');
  const snapshots = (await ok('GET', '/v2/snapshots?resource_type=droplet&per_page=1')).body.snapshots;
  const snapshotId = snapshots[0].id as string;
  await ok('GET', `/v2/snapshots?resource_type=droplet&per_page=1&page=2`);
  await ok('GET', `/v2/snapshots/${snapshotId}`);
  await fails(400, 'GET', '/v2/snapshots/fbe805e8-866b-11e6-96bf-000f53315a41');
  await fails(404, 'GET', '/v2/snapshots/1');
  await ok('GET', `/v2/droplets/${droplet.id}/snapshots`);
  await ok('GET', '/v2/images?private=true');
  await ok('GET', '/v2/images?type=distribution');
  await ok('GET', `/v2/images/${snapshotId}`);
  await ok('GET', '/v2/images/debian-13-x64');
  await fails(404, 'GET', '/v2/images/1');
  await ok('POST', `/v2/droplets/${droplet.id}/actions`, { type: 'power_on' });
  await fails(422, 'POST', `/v2/droplets/${droplet.id}/actions`, { type: 'teleport' });

  const fromSnapshot = (await ok('POST', '/v2/droplets', { ...create, name: 'ood-restored', image: Number(snapshotId) })).body.droplet;
  await fails(422, 'POST', '/v2/droplets', { ...create, region: 'sgp1', image: snapshotId });

  const rules = {
    inbound_rules: [
      { protocol: 'tcp', ports: '25565', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
      { protocol: 'tcp', ports: '22', sources: { addresses: ['127.0.0.0/8'] } },
    ],
    outbound_rules: [{ protocol: 'tcp', ports: 'all', destinations: { addresses: ['0.0.0.0/0', '::/0'] } }],
  };
  const fw = (await ok('POST', '/v2/firewalls', { name: 'ood-survival', droplet_ids: [droplet.id], ...rules })).body.firewall;
  await fails(400, 'POST', '/v2/firewalls', { name: 'no-rules' });
  await ok('GET', '/v2/firewalls');
  await ok('GET', `/v2/firewalls/${fw.id}`);
  await ok('PUT', `/v2/firewalls/${fw.id}`, { name: 'ood-survival', droplet_ids: [droplet.id], tags: ['ood-survival'], ...rules });
  await ok('POST', `/v2/firewalls/${fw.id}/droplets`, { droplet_ids: [fromSnapshot.id] });
  await ok('DELETE', `/v2/firewalls/${fw.id}/droplets`, { droplet_ids: [fromSnapshot.id] });
  await fails(404, 'GET', '/v2/firewalls/00000000-0000-4000-8000-000000000000');

  const record = (await ok('POST', '/v2/domains/example.com/records', { type: 'A', name: 'play', data: '127.0.1.2', ttl: 60 })).body.domain_record;
  await fails(422, 'POST', '/v2/domains/example.com/records', { type: 'A', name: 'play', data: 'not-an-address' });
  await fails(404, 'POST', '/v2/domains/example.org/records', { type: 'A', name: 'play', data: '127.0.1.2' });
  await ok('GET', '/v2/domains/example.com/records?name=play.example.com&type=A');
  await ok('GET', `/v2/domains/example.com/records/${record.id}`);
  await ok('PATCH', `/v2/domains/example.com/records/${record.id}`, { data: '127.0.1.3' });
  await ok('PUT', `/v2/domains/example.com/records/${record.id}`, { type: 'A', name: 'play', data: '127.0.1.4', ttl: 300 });
  await fails(404, 'GET', '/v2/domains/example.com/records/1');

  await ok('POST', '/v2/tags/extra/resources', { resources: [{ resource_id: String(droplet.id), resource_type: 'droplet' }] });
  await ok('DELETE', '/v2/tags/extra/resources', { resources: [{ resource_id: String(droplet.id), resource_type: 'droplet' }] });
  await fails(404, 'DELETE', '/v2/tags/never-made/resources', { resources: [] });

  fake.faults.rateLimit(1, 3);
  await fails(429, 'GET', '/v2/droplets');
  fake.faults.serverErrors(1);
  await fails(500, 'GET', `/v2/droplets/${droplet.id}`);

  await ok('DELETE', `/v2/domains/example.com/records/${record.id}`);
  await ok('DELETE', `/v2/firewalls/${fw.id}`);
  await ok('DELETE', `/v2/snapshots/${snapshotId}`);
  await ok('DELETE', `/v2/images/${(await ok('GET', '/v2/snapshots')).body.snapshots[0].id}`);
  await ok('DELETE', `/v2/account/keys/${key.id}`);
  await ok('DELETE', `/v2/droplets/${fromSnapshot.id}`);
  await ok('DELETE', '/v2/droplets?tag_name=ood-survival');
  await fails(404, 'DELETE', `/v2/droplets/${droplet.id}`);
}
