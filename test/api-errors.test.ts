import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';

/** Every error the API sends is `{"error": "…"}` that says what is wrong, whoever produced it. */
describe('API errors are JSON that names the problem', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it.each([
    ['{bad json', /^the body is not a JSON object: .+; send \{\} or \{"reason": "…"\}, or no body$/],
    ['null', /^the body is not a JSON object/],
    ['"x"', /^the body is not a JSON object/],
    ['[1,2]', /^bad request body: body: /],
    ['{"reason": 5}', /^bad request body: reason: /],
  ])('a start with body %s gets 400 saying why', async (body, message) => {
    const res = await apiFor(serving.url).call('POST', '/api/servers/world/start', { body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(message);
  });

  it('a wrong method gets 405 as JSON, naming what the route allows', async () => {
    const res = await apiFor(serving.url).call('DELETE', '/api/servers/world/start');
    expect(res).toEqual({ status: 405, body: { error: 'DELETE is not allowed on /api/servers/world/start; it allows POST' } });
    const health = await fetch(`${serving.url}/healthz`, { method: 'POST' });
    expect(health.status).toBe(405);
    expect(await health.json()).toEqual({ error: 'POST is not allowed on /healthz; it allows HEAD, GET' });
  });

  it('headers too large get 431 as JSON', async () => {
    const { status, body, type } = await new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
      const req = request(`${serving.url}/api/servers`, { headers: { authorization: `Bearer ${TEST_TOKEN}`, 'x-padding': 'x'.repeat(20_000) } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text, type: String(res.headers['content-type']) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
    expect(type).toMatch(/^application\/json/);
    expect(JSON.parse(body)).toEqual({ error: 'the request headers are larger than this server accepts (16 KB)' });
  });
});
