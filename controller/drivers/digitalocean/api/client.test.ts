import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DoClient } from './client.js';
import { DoActionError, DoApiError, DoTimeoutError } from './errors.js';
import { publicIpv4, type Action } from './types.js';

// A tiny HTTP server on 127.0.0.1 stands in for DigitalOcean: each test says how it answers and then
// reads what the client sent. (The full fake API in test/fake-do/ is for the driver's tests.)
const TOKEN = 'dop_v1_0123456789abcdefsecret';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: string;
}
type Answer = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> };
type Handler = (req: Seen) => Answer;

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: Seen[];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const one: Seen = { method: req.method ?? '', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, body };
      seen.push(one);
      const answer = handler(one);
      const text = answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

let sleeps: number[];
let logs: string[];
let clock: number;

beforeEach(() => {
  seen = [];
  sleeps = [];
  logs = [];
  clock = 1_764_000_000_000;
  handler = () => ({ status: 500, body: { id: 'server_error', message: 'no handler' } });
});

/** A client whose sleeps are recorded and advance a fake clock instead of waiting. */
function client(over: Partial<ConstructorParameters<typeof DoClient>[0]> = {}): DoClient {
  return new DoClient({
    baseUrl,
    token: TOKEN,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    log: (msg) => logs.push(msg),
    ...over,
  });
}

function droplet(id: number, over: Record<string, unknown> = {}) {
  return {
    id,
    name: `ood-survival`,
    memory: 2048,
    vcpus: 1,
    disk: 50,
    locked: false,
    status: 'active',
    created_at: '2026-02-01T10:00:00Z',
    features: [],
    backup_ids: [],
    next_backup_window: null,
    snapshot_ids: [],
    image: { id: 187654321, name: 'ood-1764000000', type: 'snapshot' },
    volume_ids: [],
    size: { slug: 's-1vcpu-2gb' },
    size_slug: 's-1vcpu-2gb',
    networks: {
      v4: [
        { ip_address: '10.110.0.5', netmask: '255.255.240.0', gateway: '10.110.0.1', type: 'private' },
        { ip_address: '203.0.113.7', netmask: '255.255.240.0', gateway: '203.0.113.1', type: 'public' },
      ],
      v6: [],
    },
    region: { slug: 'fra1', name: 'Frankfurt 1', features: [], available: true, sizes: [] },
    tags: ['ood', 'ood-survival'],
    ...over,
  };
}

function action(id: number, status: Action['status'], type = 'snapshot') {
  return {
    id,
    status,
    type,
    started_at: '2026-02-01T10:00:00Z',
    completed_at: status === 'in-progress' ? null : '2026-02-01T10:03:00Z',
    resource_id: 3164444,
    resource_type: 'droplet',
    region_slug: 'fra1',
  };
}

const unauthorized = { status: 401, body: { id: 'unauthorized', message: 'Unable to authenticate you' } };

describe('reading', () => {
  it('gets a droplet with the bearer token and parses the fields OoD uses', async () => {
    handler = () => ({ status: 200, body: { droplet: droplet(3164444) } });
    const d = await client().getDroplet(3164444);
    expect(d).toEqual({
      id: 3164444,
      name: 'ood-survival',
      status: 'active',
      size_slug: 's-1vcpu-2gb',
      region: { slug: 'fra1' },
      image: { id: 187654321, name: 'ood-1764000000' },
      tags: ['ood', 'ood-survival'],
      networks: { v4: [{ ip_address: '10.110.0.5', type: 'private' }, { ip_address: '203.0.113.7', type: 'public' }] },
      created_at: '2026-02-01T10:00:00Z',
    });
    expect(publicIpv4(d!)).toBe('203.0.113.7');
    expect(seen).toMatchObject([{ method: 'GET', path: '/v2/droplets/3164444', authorization: `Bearer ${TOKEN}` }]);
  });

  it('gives null for a droplet DigitalOcean does not know', async () => {
    handler = () => ({ status: 404, body: { id: 'not_found', message: 'The resource you were accessing could not be found.' } });
    expect(await client().getDroplet(1)).toBeNull();
    expect(seen).toHaveLength(1);
  });

  it('has no public address while a new droplet has none', () => {
    expect(publicIpv4({ networks: { v4: [{ ip_address: '10.0.0.2', type: 'private' }] } })).toBeNull();
  });

  it('walks every page by number, never following the next link to another host', async () => {
    handler = (req) => {
      const page = Number(req.query.get('page'));
      const ids = { 1: [1, 2], 2: [3, 4], 3: [5] }[page] ?? [];
      // Real DO links name its own host; this one names a host the token must never go to.
      const next = page < 3 ? { next: `http://127.0.0.2:9/v2/droplets?page=${page + 1}` } : {};
      return { status: 200, body: { droplets: ids.map((id) => droplet(id)), links: { pages: next }, meta: { total: 5 } } };
    };
    const list = await client().listDroplets('ood');
    expect(list.map((d) => d.id)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.map((s) => [s.path, s.query.get('tag_name'), s.query.get('page'), s.query.get('per_page')])).toEqual([
      ['/v2/droplets', 'ood', '1', '200'],
      ['/v2/droplets', 'ood', '2', '200'],
      ['/v2/droplets', 'ood', '3', '200'],
    ]);
  });

  it('lists droplet snapshots with string ids, and sizes with prices', async () => {
    handler = (req) =>
      req.path === '/v2/snapshots'
        ? {
            status: 200,
            body: {
              snapshots: [
                { id: '6372321', name: 'ood-1764000000', created_at: '2025-11-24T16:00:00Z', regions: ['fra1'], resource_id: '3164444', resource_type: 'droplet', min_disk_size: 50, size_gigabytes: 2.34, tags: [] },
                { id: 6372322, name: 'ood-1764000100', created_at: '2025-11-24T16:01:40Z', regions: ['fra1'], resource_id: 3164444, resource_type: 'droplet', min_disk_size: 50, size_gigabytes: 2.5, tags: null },
              ],
              links: {},
              meta: { total: 2 },
            },
          }
        : {
            status: 200,
            body: {
              sizes: [{ slug: 's-1vcpu-1gb', memory: 1024, vcpus: 1, disk: 25, transfer: 1, price_monthly: 6, price_hourly: 0.00893, regions: ['fra1'], available: true, description: 'Basic' }],
              links: {},
              meta: { total: 1 },
            },
          };
    const c = client();
    const snapshots = await c.listSnapshots();
    expect(snapshots.map((s) => [s.id, s.resource_id, s.size_gigabytes, s.tags])).toEqual([
      ['6372321', '3164444', 2.34, []],
      ['6372322', '3164444', 2.5, []],
    ]);
    expect(seen[0]!.query.get('resource_type')).toBe('droplet');
    const sizes = await c.listSizes();
    expect(sizes).toEqual([{ slug: 's-1vcpu-1gb', memory: 1024, vcpus: 1, disk: 25, price_monthly: 6, price_hourly: 0.00893, regions: ['fra1'], available: true, description: 'Basic' }]);
  });
});

describe('writing', () => {
  it('starts a snapshot action with its name', async () => {
    handler = () => ({ status: 201, body: { action: action(99, 'in-progress') } });
    const a = await client().dropletAction(3164444, { type: 'snapshot', name: 'ood-1764000000' });
    expect(a).toMatchObject({ id: 99, status: 'in-progress', type: 'snapshot', completed_at: null });
    expect(seen).toMatchObject([{ method: 'POST', path: '/v2/droplets/3164444/actions' }]);
    expect(JSON.parse(seen[0]!.body)).toEqual({ type: 'snapshot', name: 'ood-1764000000' });
  });

  it('treats deleting what is already gone as done', async () => {
    handler = () => ({ status: 404, body: { id: 'not_found', message: 'gone' } });
    await client().deleteSnapshot('6372321');
    await client().deleteDroplet(3164444);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['DELETE /v2/snapshots/6372321', 'DELETE /v2/droplets/3164444']);
  });

  it('lists the actions of a droplet', async () => {
    handler = () => ({ status: 200, body: { actions: [action(2, 'completed'), action(1, 'completed', 'shutdown')], links: {}, meta: { total: 2 } } });
    expect((await client().listDropletActions(7)).map((a) => [a.id, a.type])).toEqual([[2, 'snapshot'], [1, 'shutdown']]);
    expect(seen[0]!.path).toBe('/v2/droplets/7/actions');
  });
});

describe('retries and rate limits', () => {
  it('waits exactly retry-after on a 429, then retries', async () => {
    let n = 0;
    handler = () => (n++ === 0
      ? { status: 429, headers: { 'retry-after': '7' }, body: { id: 'too_many_requests', message: 'API Rate limit exceeded.' } }
      : { status: 200, body: { droplet: droplet(5) } });
    expect((await client().getDroplet(5))?.id).toBe(5);
    expect(sleeps).toEqual([7000]);
    expect(seen).toHaveLength(2);
  });

  it('retries a 429 even on a POST: DigitalOcean did nothing', async () => {
    let n = 0;
    handler = () => (n++ === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: { id: 'too_many_requests', message: 'slow down' } } : { status: 201, body: { action: action(3, 'in-progress', 'shutdown') } });
    expect((await client().dropletAction(5, { type: 'shutdown' })).id).toBe(3);
    expect(sleeps).toEqual([2000]);
  });

  it('holds the next call until ratelimit-reset when none remain', async () => {
    const resetAt = clock / 1000 + 12;
    handler = () => ({ status: 200, headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': String(resetAt) }, body: { droplet: droplet(5) } });
    const c = client();
    await c.getDroplet(5);
    expect(sleeps).toEqual([]);
    await c.getDroplet(5);
    expect(sleeps).toEqual([12_000]);
  });

  it('fails at once, retryable, when the limit resets later than it will wait', async () => {
    handler = () => ({ status: 429, headers: { 'retry-after': '3600' }, body: { id: 'too_many_requests', message: 'API Rate limit exceeded.' } });
    const err = await client().getDroplet(5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoApiError);
    expect(err).toMatchObject({ status: 429, retryable: true, call: 'GET /v2/droplets/5' });
    expect((err as Error).message).toMatch(/resets in 3600 s/);
    expect(seen).toHaveLength(1);
  });

  it('retries 5xx with exponential backoff, then succeeds', async () => {
    let n = 0;
    handler = () => (n++ < 2 ? { status: 503, raw: '<html>Service Unavailable</html>' } : { status: 200, body: { droplet: droplet(5) } });
    const sent: string[] = [];
    expect((await client({ onRequest: (method, path) => sent.push(`${method} ${path}`) }).getDroplet(5))?.id).toBe(5);
    expect(sent).toEqual(['GET /v2/droplets/5', 'GET /v2/droplets/5', 'GET /v2/droplets/5']);
    expect(sleeps).toEqual([500, 1000]);
    expect(logs.join('\n')).toMatch(/Retrying GET \/v2\/droplets\/5 in 500 ms after 503/);
  });

  it('gives up on endless 5xx after the bounded retries with a retryable error naming the call', async () => {
    handler = () => ({ status: 500, body: { id: 'server_error', message: 'Server was unable to give you a response.', request_id: 'b2d5e9a4' } });
    const err = await client({ maxRetries: 3 }).getDroplet(123).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoApiError);
    expect(err).toMatchObject({ call: 'GET /v2/droplets/123', status: 500, id: 'server_error', request_id: 'b2d5e9a4', retryable: true });
    expect((err as Error).message).toBe('DigitalOcean GET /v2/droplets/123 failed: 500 server_error: Server was unable to give you a response. (request b2d5e9a4)');
    expect(seen).toHaveLength(4);
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('never retries a POST after a 5xx: the action may have happened', async () => {
    handler = () => ({ status: 500, body: { id: 'server_error', message: 'oops' } });
    const err = await client().dropletAction(5, { type: 'snapshot', name: 'ood-1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, retryable: true });
    expect(seen).toHaveLength(1);
  });

  it('does not retry a 401, and says so', async () => {
    handler = () => unauthorized;
    const err = await client().getDroplet(123).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoApiError);
    expect(err).toMatchObject({ status: 401, id: 'unauthorized', retryable: false });
    expect((err as Error).message).toBe(
      'DigitalOcean GET /v2/droplets/123 failed: 401 unauthorized: Unable to authenticate you. DigitalOcean refused the token: create a read/write token in the DigitalOcean console (API → Tokens), set DIGITALOCEAN_TOKEN to it and restart `ood serve`',
    );
    expect(seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries when nothing answers, then fails with status null', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await client({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 2 }).listSizes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoApiError);
    expect(err).toMatchObject({ status: null, retryable: true, call: 'GET /v2/sizes?page=1&per_page=200' });
    expect((err as Error).message).toMatch(/^DigitalOcean GET \/v2\/sizes\?page=1&per_page=200 failed: no answer: fetch failed: .*ECONNREFUSED.*\. DigitalOcean's API did not answer at http:\/\/127\.0\.0\.1:\d+: check this machine's network/);
    expect(sleeps).toEqual([500, 1000]);
  });
});

describe('bad answers and secrets', () => {
  it('turns a body without the documented shape into a typed error naming the call', async () => {
    handler = () => ({ status: 200, body: { droplet: { ...droplet(5), id: 'five' } } });
    const err = await client().getDroplet(5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoApiError);
    expect(err).toMatchObject({ call: 'GET /v2/droplets/5', status: 200, retryable: false });
    expect((err as Error).message).toMatch(/^DigitalOcean GET \/v2\/droplets\/5 failed: 200: the answer does not have the documented shape \(droplet\.id: /);
  });

  it('turns a body that is not JSON into a typed error', async () => {
    handler = () => ({ status: 200, raw: '<html>captive portal</html>' });
    await expect(client().getAction(9)).rejects.toThrow(/GET \/v2\/actions\/9 failed: 200: the answer is not JSON: <html>captive portal/);
  });

  it('never puts the token in an error or a log, even when an answer echoes it', async () => {
    let n = 0;
    handler = () => (n++ === 0
      ? { status: 502, raw: `bad gateway for Bearer ${TOKEN}` }
      : { status: 401, body: { id: 'unauthorized', message: `token ${TOKEN} is not valid` } });
    const err = (await client().getDroplet(5).catch((e: unknown) => e)) as DoApiError;
    expect(err.message).toContain('[token]');
    for (const text of [err.message, err.doMessage ?? '', String(err.stack), JSON.stringify(err), ...logs]) expect(text).not.toContain(TOKEN);
  });
});

describe('waitForAction', () => {
  it('polls until the action completed', async () => {
    let n = 0;
    handler = () => ({ status: 200, body: { action: action(42, n++ < 2 ? 'in-progress' : 'completed') } });
    const a = await client().waitForAction(42, { timeoutMs: 60_000, pollMs: 1000 });
    expect(a.status).toBe('completed');
    expect(seen.map((s) => s.path)).toEqual(['/v2/actions/42', '/v2/actions/42', '/v2/actions/42']);
    expect(sleeps).toEqual([1000, 1000]);
  });

  it('throws a terminal DoActionError when the action errored', async () => {
    handler = () => ({ status: 200, body: { action: action(43, 'errored') } });
    const err = await client().waitForAction(43, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoActionError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(/action 43 \(snapshot on droplet 3164444\) errored/);
  });

  it('throws a retryable DoTimeoutError when the time is up', async () => {
    handler = () => ({ status: 200, body: { action: action(44, 'in-progress') } });
    const err = await client().waitForAction(44, { timeoutMs: 5000, pollMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DoTimeoutError);
    expect(err).toMatchObject({ retryable: true, waitedMs: 5000 });
    expect(sleeps).toEqual([2000, 2000, 1000]);
  });

  it('stops waiting when its signal is aborted', async () => {
    handler = () => ({ status: 200, body: { action: action(45, 'in-progress') } });
    const controller = new AbortController();
    const c = client({ sleep: () => new Promise(() => undefined) }); // a poll that would never end
    const waiting = c.waitForAction(45, { timeoutMs: 60_000, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error('controller stopping'));
    await expect(waiting).rejects.toThrow('controller stopping');
  });
});

describe('one rate limit for every request of the client', () => {
  it('a request already waiting on a 429 waits again when another 429 moves the time on before it wakes', async () => {
    // Real time: the retry-after of a slow answer lands while another request sleeps on an earlier one.
    const sent: { path: string; at: number }[] = [];
    const refusedAt: Record<string, number> = {};
    const answered = new Set<string>();
    const slow = createServer((req, res) => {
      const path = req.url ?? '';
      sent.push({ path, at: Date.now() });
      const reply = () => {
        if (!answered.has(path) && path !== '/v2/droplets/6') {
          answered.add(path);
          refusedAt[path] = Date.now();
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify({ id: 'too_many_requests', message: 'slow down' }));
          return;
        }
        const id = Number(path.split('/').pop());
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ droplet: droplet(id) }));
      };
      // Droplet 7's refusal comes late, while droplet 6's request is already asleep on droplet 5's.
      if (path === '/v2/droplets/7' && !answered.has(path)) setTimeout(reply, 300);
      else reply();
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const c = new DoClient({ baseUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, token: TOKEN });
      const late = c.getDroplet(7);
      await new Promise((r) => setTimeout(r, 20));
      const first = c.getDroplet(5);
      await new Promise((r) => setTimeout(r, 50));
      const waiting = c.getDroplet(6);
      await Promise.all([late, first, waiting]);
      const six = sent.find((s) => s.path === '/v2/droplets/6')!;
      // Told at droplet 7's refusal to send nothing for 1 s: droplet 6 goes after that, not at droplet 5's end.
      expect(six.at - refusedAt['/v2/droplets/7']!).toBeGreaterThanOrEqual(950);
    } finally {
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
