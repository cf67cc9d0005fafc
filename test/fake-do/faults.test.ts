/** The faults a test can switch on, and the request log it reads. */
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/wait.js';
import { startFakeDigitalOcean, type FakeDo } from './server.js';
import { MemoryMachines, recordingClient } from './testing.js';

const SMALL = { name: 'ood-survival', region: 'nyc3', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags: ['ood'] };

describe('the fake DigitalOcean API: faults and the request log', () => {
  let fake: FakeDo | undefined;
  let machines: MemoryMachines;
  const start = async () => {
    machines = new MemoryMachines();
    fake = await startFakeDigitalOcean({ machines, actionDelayMs: 20, dropletBootMs: 20 });
    const client = recordingClient(fake.url, fake.token);
    const activeDroplet = async (): Promise<number> => {
      const id = (await client.call('POST', '/v2/droplets', SMALL)).body.droplet.id as number;
      await waitUntil('active', async () => (await client.call('GET', `/v2/droplets/${id}`)).body.droplet.status === 'active');
      return id;
    };
    const action = async (id: number, body: object) => (await client.call('POST', `/v2/droplets/${id}/actions`, body)).body.action as { id: number; status: string };
    const actionNow = async (id: number) => (await client.call('GET', `/v2/actions/${id}`)).body.action as { status: string };
    return { fake, ...client, activeDroplet, action, actionNow };
  };
  afterEach(async () => {
    expect(fake?.backgroundErrors ?? []).toEqual([]);
    await fake?.close();
    fake = undefined;
  });

  it('answers the next n requests with 429 and retry-after, with every request logged with its time', async () => {
    const { fake, call } = await start();
    fake.faults.rateLimit(2, 7);
    const limited = [await call('GET', '/v2/droplets'), await call('GET', '/v2/sizes')];
    for (const a of limited) {
      expect(a.status).toBe(429);
      expect(a.headers).toMatchObject({ 'retry-after': '7', 'ratelimit-remaining': '0', 'ratelimit-limit': '5000' });
      expect(a.body).toMatchObject({ id: 'too_many_requests', message: 'API rate limit exceeded.' });
    }
    const after = await call('GET', '/v2/droplets');
    expect(after.status).toBe(200);
    expect(Number(after.headers['ratelimit-remaining'])).toBe(4997);
    expect(Number(after.headers['ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    expect(fake.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/v2/droplets', 429],
      ['GET', '/v2/sizes', 429],
      ['GET', '/v2/droplets', 200],
    ]);
    const times = fake.requests.map((r) => r.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThan(Date.now() - 10_000);
  });

  it('answers the next n requests with a server error of the chosen status', async () => {
    const { fake, call } = await start();
    fake.faults.serverErrors(2, 503);
    expect((await call('GET', '/v2/account')).body).toMatchObject({ id: 'service_unavailable' });
    expect((await call('GET', '/v2/account')).status).toBe(503);
    fake.faults.serverErrors(1);
    expect((await call('GET', '/v2/account')).body).toMatchObject({ id: 'server_error' });
    expect((await call('GET', '/v2/account')).status).toBe(200);
  });

  it('ends a snapshot action `errored` without a snapshot when snapshots are set to fail', async () => {
    const { fake, call, activeDroplet, action, actionNow } = await start();
    const id = await activeDroplet();
    fake.faults.snapshotActions = 'errored';
    const snap = await action(id, { type: 'snapshot', name: 'ood-1764000000' });
    expect(snap.status).toBe('in-progress');
    await waitUntil('snapshot ends', async () => (await actionNow(snap.id)).status !== 'in-progress');
    expect((await actionNow(snap.id)).status).toBe('errored');
    await new Promise((r) => setTimeout(r, 50));
    expect((await call('GET', '/v2/snapshots')).body.snapshots).toEqual([]);
    expect(fake.state.snapshots.size).toBe(0);
    expect(machines.calls.filter((c) => c.startsWith('snapshot'))).toEqual([]);
    // The droplet is untouched and can be snapshotted once the fault is off.
    fake.faults.snapshotActions = 'ok';
    const again = await action(id, { type: 'snapshot', name: 'ood-1764000001' });
    await waitUntil('snapshot listed', async () => (await call('GET', '/v2/snapshots')).body.snapshots.length === 1);
    expect((await actionNow(again.id)).status).toBe('completed');
  });

  it('keeps a hung shutdown in progress with the droplet active, refuses other actions, and lets power_off end it', async () => {
    const { fake, call, activeDroplet, action, actionNow } = await start();
    const id = await activeDroplet();
    fake.faults.shutdownNeverFinishes = true;
    const shutdown = await action(id, { type: 'shutdown' });
    await new Promise((r) => setTimeout(r, 200));
    expect((await actionNow(shutdown.id)).status).toBe('in-progress');
    expect((await call('GET', `/v2/droplets/${id}`)).body.droplet).toMatchObject({ status: 'active', locked: true });
    const refused = await call('POST', `/v2/droplets/${id}/actions`, { type: 'snapshot', name: 'ood-1' });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe('Droplet already has a pending event.');

    const powerOff = await action(id, { type: 'power_off' });
    await waitUntil('power_off done', async () => (await actionNow(powerOff.id)).status === 'completed');
    expect((await call('GET', `/v2/droplets/${id}`)).body.droplet).toMatchObject({ status: 'off', locked: false });
    expect((await actionNow(shutdown.id)).status).toBe('errored');
    expect(machines.calls).toContain(`powerOff ${id} hard`);
    expect(machines.calls).not.toContain(`powerOff ${id} graceful`);
  });

  it('can complete a shutdown that leaves the droplet running, as DigitalOcean\'s best-effort shutdown may', async () => {
    const { fake, call, activeDroplet, action, actionNow } = await start();
    const id = await activeDroplet();
    fake.faults.shutdownIgnored = true;
    const shutdown = await action(id, { type: 'shutdown' });
    await waitUntil('shutdown done', async () => (await actionNow(shutdown.id)).status === 'completed');
    expect((await call('GET', `/v2/droplets/${id}`)).body.droplet.status).toBe('active');
  });

  it('fails droplet creates on request: refused with 422, or made with an errored create action', async () => {
    const { fake, call } = await start();
    fake.faults.failDropletCreates(1, 'rejected');
    expect((await call('POST', '/v2/droplets', SMALL)).status).toBe(422);
    fake.faults.failDropletCreates(1, 'errored');
    const created = (await call('POST', '/v2/droplets', SMALL)).body;
    await waitUntil('create errored', async () => (await call('GET', `/v2/actions/${created.links.actions[0].id}`)).body.action.status === 'errored');
    expect((await call('GET', `/v2/droplets/${created.droplet.id}`)).body.droplet.status).toBe('off');
    expect(fake.state.droplets.size).toBe(1);
  });

  it('logs method, path, query, status and body of every request, including refused ones', async () => {
    const { fake, call } = await start();
    await call('GET', '/v2/droplets?tag_name=ood&per_page=50');
    await call('GET', '/v2/droplets', undefined, { token: 'stolen' });
    await call('POST', '/v2/droplets', SMALL);
    await call('GET', '/v2/nowhere');
    expect(fake.requests.every((r) => r.userAgent === 'node')).toBe(true);
    expect(fake.requests.map(({ at: _at, userAgent: _ua, ...r }) => r)).toEqual([
      { method: 'GET', path: '/v2/droplets', query: { tag_name: 'ood', per_page: '50' }, status: 200 },
      { method: 'GET', path: '/v2/droplets', query: {}, status: 401 },
      { method: 'POST', path: '/v2/droplets', query: {}, status: 202, body: SMALL },
      { method: 'GET', path: '/v2/nowhere', query: {}, status: 404 },
    ]);
  });
});
