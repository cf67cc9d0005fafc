import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimit } from './rate-limit.js';

describe('rate limits', () => {
  let server: ReturnType<Koa['listen']>;
  let url: string;
  beforeAll(async () => {
    const app = new Koa();
    app.use(rateLimit({ name: 'test', max: 2, durationMs: 60_000, maxKeys: 5, key: (ctx) => ctx.get('x-who'), message: 'Too many.' }));
    app.use((ctx) => (ctx.body = 'ok'));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  const from = async (who: string) => (await fetch(url, { headers: { 'x-who': who } })).status;

  it('keeps a limited key limited however many new keys come, refusing new keys while full', async () => {
    expect([await from('a'), await from('a'), await from('a')]).toEqual([200, 200, 429]);
    const others: number[] = [];
    for (let i = 0; i < 20; i++) others.push(await from(`rotating-${i}`));
    expect(others.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(others.slice(4)).toEqual(new Array(16).fill(429));
    expect(await from('a')).toBe(429);
    // A key already counted is still served while the map is full.
    expect(await from('rotating-0')).toBe(200);
  });
});
