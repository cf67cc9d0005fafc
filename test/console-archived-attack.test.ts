// The console of a server that is asleep (issue 21), after the controller started again: the hub is
// told "archived" only by a phase move, and a controller that starts with its servers archived makes
// none. Its log must still not be followed: locally that is a file polled 4 times a second for a
// world nobody runs, on DigitalOcean an SSH attempt at a droplet that does not exist, retried.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { TEST_TOKEN } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { loginAs, type WebClient } from './helpers/web-client.js';

describe('the console of an archived server after a controller start', () => {
  let home: OodHome;
  let serving: Serving;
  let admin: WebClient;

  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    admin = await loginAs(serving, LOCAL_ADMIN);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('does not start following the log for a GET of the console page, the API read or an open stream', async () => {
    expect(serving.controller.view('world').state.phase).toBe('archived');
    const hub = serving.controller.logs('world');

    const page = await admin.get('/servers/world/console');
    expect(page.status).toBe(200);
    expect(hub.following).toBe(false);

    const read = await admin.get('/api/servers/world/logs', { accept: 'application/json' });
    expect(read.status).toBe(200);
    expect(hub.following).toBe(false);

    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${admin.url}/servers/world/console/events`, { agent: false, headers: { accept: 'text/event-stream', cookie: admin.cookie } }, (res) => {
        resolve(res.statusCode ?? 0);
        setTimeout(() => req.destroy(), 300);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(hub.following).toBe(false);
  });

  it('escapes a server id made of markup in the console routes\' 404, for anyone', async () => {
    const markup = encodeURIComponent('<img src=x onerror=alert(1)>');
    for (const path of [`/servers/${markup}/console`, `/servers/${markup}/console/events`]) {
      const res = await fetch(`${serving.url}${path}`, { headers: { accept: 'text/html' } });
      const text = await res.text();
      expect(text, path).not.toContain('<img src=x');
    }
    const page = await admin.get(`/servers/${markup}/console`);
    expect(page.text).not.toContain('<img src=x');
  });

  it('keeps the API log read to people with console however the path is spelt', async () => {
    serving.controller.store.people.put('test:player', ['start'], 'test', Date.now());
    const player = await loginAs(serving, 'test:player');
    for (const path of ['/api/servers/world/logs', '/api/servers/world/LOGS', '/api/servers/world/logs/', '/api/servers/world/%6Cogs', '/api/servers/world/log%73', '/api//servers/world/logs', '/api/servers/world/logs?follow=1']) {
      const res = await player.get(path, { accept: 'application/json' });
      expect([path, res.status]).not.toEqual([path, 200]);
    }
  });

  it('answers a console command or log read for a server that does not exist with 404, not a 500', async () => {
    const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
    const command = await fetch(`${serving.url}/api/servers/nope/console`, { method: 'POST', headers: auth, body: JSON.stringify({ command: 'list' }) });
    expect(command.status).toBe(404);
    for (const path of ['/api/servers/nope/logs', '/api/servers/nope/logs?follow=1']) {
      const read = await fetch(`${serving.url}${path}`, { headers: auth });
      expect(read.status, path).toBe(404);
      await read.body?.cancel();
    }
  });
});
