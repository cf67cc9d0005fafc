import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import type { Permission } from '../controller/store/people.js';
import { apiFor } from './helpers/api.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs, type WebClient } from './helpers/web-client.js';

/** One open `/events` stream, read the way a page's EventSource reads it. */
interface Stream {
  status: number;
  /** Everything received so far. */
  text: () => string;
  /** The `event: server` messages received so far, in order. */
  cards: () => string[];
  ended: () => boolean;
  close(): void;
}

function openStream(client: WebClient): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${client.url}/events`, { agent: false, headers: { accept: 'text/event-stream', cookie: client.cookie } }, (res: IncomingMessage) => {
      let text = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve({
        status: res.statusCode ?? 0,
        text: () => text,
        cards: () => text.split('\n\n').filter((e) => e.startsWith('event: server')),
        ended: () => ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Live pages and what they may keep: the stream follows the person's session and permissions, and one person cannot fill every slot. */
describe('live pages under attack', () => {
  let home: OodHome;
  let serving: Serving;
  let admin: WebClient;
  const open: Stream[] = [];
  const people = () => serving.controller.store.people;
  const stream = async (client: WebClient) => {
    const s = await openStream(client);
    open.push(s);
    return s;
  };
  const person = async (identity: string, permissions: Permission[]) => {
    people().put(identity, permissions, 'test', Date.now());
    return loginAs(serving, identity);
  };
  /** A change every page hears about: the admin presses Start or Stop, whichever the card offers. */
  const change = async () => {
    const desired = serving.controller.view('world').state.desired;
    const res = await admin.post(`/servers/world/${desired === 'up' ? 'stop' : 'start'}`);
    expect(res.status).toBe(303);
  };
  const firstCard = (s: Stream) => waitUntil('the first card', () => s.cards().length > 0, 5_000);

  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    admin = await loginAs(serving, LOCAL_ADMIN);
  });
  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    // The next test starts from a server at rest: one still stopping offers no Start or Stop on its card.
    await waitUntil('the server to come to rest', () => {
      const { desired, phase } = serving.controller.view('world').state;
      return phase === (desired === 'up' ? 'running' : 'archived');
    }, 60_000);
  });
  afterAll(async () => {
    if (serving && serving.controller.view('world').state.desired === 'up') await admin.post('/servers/world/stop');
    await serving?.close();
    await home?.cleanup();
  });

  it('ends a removed person’s open stream, and sends it no card after the removal', async () => {
    const alice = await person('github:101', ['start']);
    const s = await stream(alice);
    expect(s.status).toBe(200);
    await firstCard(s);
    const before = s.cards().length;
    expect((await admin.post('/admin/people/remove', { identity: 'github:101' })).status).toBe(303);
    await change();
    await change();
    await waitUntil('the removed person’s stream to end', () => s.ended(), 5_000);
    expect(s.cards().length).toBe(before);
  });

  it('renders every card for the person’s current permissions once they are lowered', async () => {
    const bob = await person('github:102', ['start', 'stop']);
    const s = await stream(bob);
    await firstCard(s);
    expect(s.cards()[0]).toMatch(/action=\\"\/servers\/world\/(start|stop)\\"/);
    const before = s.cards().length;
    expect((await admin.post('/admin/people', { identity: 'github:102' })).status).toBe(303);
    await change();
    await waitUntil('a card after the change', () => s.cards().length > before, 5_000);
    await change();
    await waitUntil('a second card after the change', () => s.cards().length > before + 1, 5_000);
    // Someone who may only look gets no buttons: no form at all in any card sent since.
    for (const card of s.cards().slice(before)) expect(card).not.toContain('<form');
    expect(s.ended()).toBe(false);
  });

  it('ends a stream whose session expired or was logged out', async () => {
    const carol = await person('github:103', ['start']);
    const dave = await person('github:104', ['start']);
    const expiring = await stream(carol);
    const leaving = await stream(dave);
    await firstCard(expiring);
    await firstCard(leaving);
    const counts = [expiring.cards().length, leaving.cards().length];
    // Carol's session runs out (as if sessionMaxAge had passed); Dave presses Log out in another tab.
    const sid = /ood\.sid=([^;]+)/.exec(carol.cookie)![1]!;
    const sessions = serving.controller.store.sessions;
    const data = sessions.get(sid, Date.now())!;
    sessions.set(sid, data, Date.now() - 1, Date.now());
    await dave.get('/');
    expect((await dave.post('/logout')).status).toBe(302);
    await change();
    await waitUntil('both streams to end', () => expiring.ended() && leaving.ended(), 5_000);
    expect([expiring.cards().length, leaving.cards().length]).toEqual(counts);
  });

  it('lets one person (even one who may only look) hold a few live pages, not every slot, and the admin’s page still opens', async () => {
    const mallory = await person('github:105', []);
    const FLOOD = 40;
    let held = 0;
    for (let i = 0; i < FLOOD; i++) if ((await stream(mallory)).status === 200) held++;
    const refused = open.find((s) => s.status !== 200);
    expect(held).toBeLessThanOrEqual(8);
    expect(refused?.status).toBe(429);
    expect(refused?.text()).toContain('live pages');
    expect((await stream(admin)).status).toBe(200);
    // A page closed frees its place for the next.
    const mine = open.filter((s) => s.status === 200).slice(0, 1);
    mine.forEach((s) => s.close());
    await waitUntil('a place for the person again', async () => (await stream(mallory)).status === 200, 5_000);
  });

  it('caps the streams from one address below the global cap, across people', async () => {
    const accounts = await Promise.all(['github:106', 'github:107', 'github:108'].map((id) => person(id, [])));
    const statuses: number[] = [];
    for (const account of accounts) for (let i = 0; i < 8; i++) statuses.push((await stream(account)).status);
    expect(statuses.filter((s) => s === 200).length).toBe(16);
    expect(statuses.slice(16)).toEqual(Array(8).fill(429));
  });
});

/**
 * A DigitalOcean server's history page: the stack's history comes from a worker process and the
 * `pulumi` CLI (the real one, behind a wrapper that counts history reads and can make them slow).
 */
describe('the history page of a DigitalOcean server under load', () => {
  let world: DoWorld;
  let serving: Serving;
  let admin: WebClient;
  const reads = () => (existsSync(join(world.dir, 'history-reads')) ? readFileSync(join(world.dir, 'history-reads'), 'utf8').split('\n').filter(Boolean).length : 0);

  beforeAll(async () => {
    world = await makeDoWorld();
    const wrapper = join(world.dir, 'pulumi');
    const count = join(world.dir, 'history-reads');
    const slow = join(world.dir, 'slow');
    const config = parse(readFileSync(world.configPath, 'utf8')) as { pulumi: { command: string } };
    const real = config.pulumi.command;
    writeFileSync(
      wrapper,
      `#!/bin/sh\nfor a in "$@"; do if [ "$a" = history ]; then echo read >> '${count}'; if [ -f '${slow}' ]; then sleep 4; fi; break; fi; done\nexec '${real}' "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    config.pulumi.command = wrapper;
    writeFileSync(world.configPath, stringify(config));
    serving = await serveInProcess(world.configPath, world.env);
    admin = await loginAs(serving, LOCAL_ADMIN);
  });
  afterAll(async () => {
    await serving?.close();
    await world?.cleanup();
  });

  it('reads the stack history once for 8 parallel views, and no view waits on a slow read past the bound', async () => {
    writeFileSync(join(world.dir, 'slow'), '');
    const started = Date.now();
    const [apiAnswer, ...pages] = await Promise.all([apiFor(serving.url).call('GET', '/api/servers/world/history'), ...Array.from({ length: 8 }, () => admin.get('/servers/world'))]);
    // The bound is 2 s; the slack is for a loaded 2-core machine.
    expect(Date.now() - started).toBeLessThan(3_500);
    expect(pages.map((p) => p.status)).toEqual(Array(8).fill(200));
    for (const page of pages) expect(page.text).toContain('The stack history is loading');
    expect(apiAnswer.body).toMatchObject({ stack: null, stackLoading: true });
    const done = await waitUntil('the stack history to be read', async () => {
      const page = await admin.get('/servers/world');
      return !page.text.includes('is loading') && page;
    }, 90_000, 500);
    expect(done.text).toContain('Pulumi stack updates');
    expect(reads()).toBe(1);
    // Read once per change: more views, and the API, answer from what was read.
    const again = await Promise.all(Array.from({ length: 8 }, () => admin.get('/servers/world')));
    for (const page of again) expect(page.text).toContain('Pulumi stack updates');
    expect((await apiFor(serving.url).call('GET', '/api/servers/world/history')).body).toMatchObject({ stack: [], stackLoading: false });
    expect(reads()).toBe(1);
  }, 180_000);
});
