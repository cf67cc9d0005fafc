import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../log.js';
import { openDb, type Db } from '../store/db.js';
import { classify, DeliveryWorker, failureText, parseRetryAfter, USER_AGENT, type DeliveryOptions } from './delivery.js';
import { OutboxRepo, STOPPED_DURING_DELIVERY } from './outbox.js';

interface Received {
  key: string;
  at: number;
  headers: IncomingMessage['headers'];
  /** The status it was answered with; undefined while it hangs. */
  status?: number;
}

/** A webhook receiver on loopback; `answer` decides each request's fate by its key and how often that key came. */
async function receiver(answer: (key: string, nth: number, res: ServerResponse) => void) {
  const received: Received[] = [];
  let open = 0;
  let maxOpen = 0;
  const server: Server = createServer((req, res) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    res.on('close', () => open--);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const key = (JSON.parse(body) as { key: string }).key;
      const entry: Received = { key, at: Date.now(), headers: req.headers };
      received.push(entry);
      res.on('finish', () => (entry.status = res.statusCode));
      answer(key, received.filter((r) => r.key === key).length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    maxOpen: () => maxOpen,
    /** How many times each key was answered with a 2xx: a delivery. */
    deliveries: (key: string) => received.filter((r) => r.key === key && r.status !== undefined && r.status < 300).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const status = (code: number, headers: Record<string, string> = {}) => (res: ServerResponse) => res.writeHead(code, headers).end();

describe('DeliveryWorker against a local receiver', () => {
  let dir: string;
  let db: Db;
  let outbox: OutboxRepo;
  let worker: DeliveryWorker | undefined;
  let rx: Awaited<ReturnType<typeof receiver>> | undefined;
  let logs: string[];
  let log: Logger;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-delivery-'));
    db = openDb(join(dir, 'ood.db'));
    outbox = new OutboxRepo(db);
    logs = [];
    log = createLogger('debug', { write: (line: string) => void logs.push(line) });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await rx?.close();
    rx = undefined;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (urls: DeliveryOptions['urls'], options: Partial<DeliveryOptions> = {}) => {
    worker = new DeliveryWorker({ outbox, urls, timeoutMs: 2_000, maxAttempts: 5, log, backoff: { firstMs: 100, maxMs: 1_000 }, closeGraceMs: 500, ...options });
    worker.start();
    return worker;
  };
  const enqueue = (key: string, target: 'discord' | 'webhook' = 'webhook') => {
    outbox.enqueue(key, target, JSON.stringify({ key }), Date.now());
    worker?.wake();
  };
  const settled = (key: string, target: 'discord' | 'webhook' = 'webhook') =>
    waitFor(`${key} to be delivered or given up`, () => {
      const row = outbox.get(key, target);
      return row && (row.deliveredAt !== null || row.givenUpAt !== null) ? row : undefined;
    });

  it('retries after 500s and delivers once, counting the attempts', async () => {
    rx = await receiver((_key, nth, res) => status(nth <= 2 ? 500 : 204)(res));
    run({ webhook: rx.url('/hook/secret-token') });
    enqueue('k1');
    const row = await settled('k1');
    expect(row).toMatchObject({ attempts: 3, lastError: null });
    expect(row.deliveredAt).not.toBeNull();
    expect(rx.received.map((r) => r.status)).toEqual([500, 500, 204]);
    // Backoff 100 ms, then 200 ms.
    expect(rx.received[2]!.at - rx.received[1]!.at).toBeGreaterThanOrEqual(180);
    expect(rx.received[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': USER_AGENT });
    await sleep(400);
    expect(rx.deliveries('k1')).toBe(1);
    expect(rx.received).toHaveLength(3);
  });

  it('honours Retry-After on a 429', async () => {
    rx = await receiver((_key, nth, res) => status(nth === 1 ? 429 : 204, nth === 1 ? { 'retry-after': '1' } : {})(res));
    run({ discord: rx.url('/discord') });
    enqueue('k1', 'discord');
    const row = await settled('k1', 'discord');
    expect(row.deliveredAt).not.toBeNull();
    expect(rx.received).toHaveLength(2);
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('waits at least the backoff step when a 429 says Retry-After: 0', async () => {
    rx = await receiver((_key, _nth, res) => status(429, { 'retry-after': '0' })(res));
    run({ webhook: rx.url('/hook') }, { maxAttempts: 4, backoff: { firstMs: 200, maxMs: 1_000 } });
    enqueue('k1');
    const row = await settled('k1');
    expect(row).toMatchObject({ attempts: 4, deliveredAt: null });
    const gaps = rx.received.slice(1).map((r, i) => r.at - rx!.received[i]!.at);
    // 200, 400, 800 ms: the backoff's own steps (a few ms of timer slack allowed).
    expect(gaps.map((gap, i) => gap >= 200 * 2 ** i - 5), `gaps ${gaps.join(', ')} ms`).toEqual([true, true, true]);
  });

  it('gives up at once on a 404 (a wrong URL will not get better)', async () => {
    rx = await receiver((_key, _nth, res) => status(404)(res));
    run({ webhook: rx.url('/gone') });
    enqueue('k1');
    const row = await settled('k1');
    expect(row).toMatchObject({ attempts: 1, deliveredAt: null, lastError: 'answered HTTP 404' });
    await sleep(300);
    expect(rx.received).toHaveLength(1);
  });

  it('times out a receiver that hangs and tries again, delivering once', async () => {
    rx = await receiver((_key, nth, res) => {
      if (nth > 1) status(204)(res);
      // The first request is never answered.
    });
    run({ webhook: rx.url('/hook') }, { timeoutMs: 300 });
    enqueue('k1');
    const row = await settled('k1');
    expect(row).toMatchObject({ attempts: 2 });
    expect(row.deliveredAt).not.toBeNull();
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(300);
    expect(rx.deliveries('k1')).toBe(1);
    expect(logs.join('')).toMatch(/no answer within 0.3 s/);
  });

  it('gives up after maxAttempts', async () => {
    rx = await receiver((_key, _nth, res) => status(503)(res));
    run({ webhook: rx.url('/hook') }, { maxAttempts: 3 });
    enqueue('k1');
    const row = await settled('k1');
    expect(row).toMatchObject({ attempts: 3, deliveredAt: null, lastError: 'answered HTTP 503 (gave up after 3 attempts)' });
    expect(rx.received).toHaveLength(3);
  });

  it('sends at most `concurrency` at once, and each target in order', async () => {
    rx = await receiver((_key, _nth, res) => setTimeout(() => status(204)(res), 150));
    run({ discord: rx.url('/d'), webhook: rx.url('/w') }, { concurrency: 1 });
    for (let i = 0; i < 3; i++) {
      enqueue(`d${i}`, 'discord');
      enqueue(`w${i}`, 'webhook');
    }
    await settled('d2', 'discord');
    await settled('w2', 'webhook');
    expect(rx.maxOpen()).toBe(1);
    const order = rx.received.map((r) => r.key);
    expect(order.filter((k) => k.startsWith('d'))).toEqual(['d0', 'd1', 'd2']);
    expect(order.filter((k) => k.startsWith('w'))).toEqual(['w0', 'w1', 'w2']);
    for (const key of order) expect(rx.deliveries(key)).toBe(1);
  });

  it('two targets are sent side by side when two slots are free', async () => {
    rx = await receiver((_key, _nth, res) => setTimeout(() => status(204)(res), 300));
    run({ discord: rx.url('/d'), webhook: rx.url('/w') }, { concurrency: 4 });
    enqueue('d0', 'discord');
    enqueue('w0', 'webhook');
    await settled('d0', 'discord');
    await settled('w0', 'webhook');
    expect(rx.maxOpen()).toBe(2);
  });

  it('close waits a little for a send under way, then cuts it off and gives it up', async () => {
    rx = await receiver(() => undefined);
    const w = run({ webhook: rx.url('/hook') }, { timeoutMs: 30_000, closeGraceMs: 300 });
    enqueue('k1');
    await waitFor('the request to arrive', () => rx!.received.length === 1 || undefined);
    const began = Date.now();
    await w.close();
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(outbox.get('k1', 'webhook')).toMatchObject({ givenUpAt: expect.any(Number), lastError: STOPPED_DURING_DELIVERY, sendingSince: null });
  });

  it('close lets a quick send finish and record its outcome', async () => {
    rx = await receiver((_key, _nth, res) => setTimeout(() => status(204)(res), 100));
    const w = run({ webhook: rx.url('/hook') }, { closeGraceMs: 3_000 });
    enqueue('k1');
    await waitFor('the request to arrive', () => rx!.received.length === 1 || undefined);
    await w.close();
    expect(outbox.get('k1', 'webhook')?.deliveredAt).not.toBeNull();
  });

  it('starts by giving up what a crash left being sent, and sends the rest', async () => {
    rx = await receiver((_key, _nth, res) => status(204)(res));
    outbox.enqueue('left', 'webhook', JSON.stringify({ key: 'left' }), Date.now());
    outbox.claimDue(Date.now(), 1);
    outbox.enqueue('next', 'webhook', JSON.stringify({ key: 'next' }), Date.now());
    run({ webhook: rx.url('/hook') });
    await settled('next');
    expect(outbox.get('left', 'webhook')).toMatchObject({ givenUpAt: expect.any(Number), lastError: STOPPED_DURING_DELIVERY });
    expect(rx.received.map((r) => r.key)).toEqual(['next']);
  });

  it('never names the URL in logs or errors, even when it cannot connect', async () => {
    // A port that was free a moment ago: nothing listens, the connection is refused.
    const probe = await receiver(() => undefined);
    const url = probe.url('/api/webhooks/123/secret-token');
    await probe.close();
    run({ webhook: url }, { maxAttempts: 2 });
    enqueue('k1');
    const row = await settled('k1');
    expect(row.lastError).toMatch(/ECONNREFUSED/);
    expect(row.lastError).not.toContain('secret-token');
    const text = logs.join('');
    expect(text).toMatch(/Could not deliver a notification to webhook/);
    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('/api/webhooks');
  });

  it('a row for a target with no URL is given up, not retried', async () => {
    run({});
    enqueue('k1', 'discord');
    expect(await settled('k1', 'discord')).toMatchObject({ attempts: 1, lastError: 'no URL is set for discord' });
  });
});

describe('what an answer means', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [301, 'give up'],
    [400, 'give up'],
    [401, 'give up'],
    [404, 'give up'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
  ])('HTTP %i → %s', (code, kind) => {
    expect(classify(code, null, 0).kind).toBe(kind);
  });

  it('reads Retry-After as seconds or a date', () => {
    const now = Date.UTC(2025, 0, 1);
    expect(parseRetryAfter('1', now)).toBe(1_000);
    expect(parseRetryAfter('0.25', now)).toBe(250);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
    expect(classify(429, '2', now)).toEqual({ kind: 'retry', error: 'answered HTTP 429', afterMs: 2_000 });
  });

  it('takes the URL out of an error that names it', () => {
    const url = 'http://[bad/api/webhooks/1/tok?x=secret';
    const err = new TypeError(`Failed to parse URL from ${url}`);
    expect(failureText(err, url)).toBe('Failed to parse URL from [url]');
    const ok = 'https://discord.com/api/webhooks/1/tok';
    expect(failureText(new Error(`POST ${ok} failed; path /api/webhooks/1/tok`), ok)).toBe('POST [url] failed; path [url]');
  });
});

async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
