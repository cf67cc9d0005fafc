import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { listArchives } from '../controller/drivers/local/archive.js';
import { parseProperties } from '../controller/minecraft/properties.js';
import { OutboxRepo } from '../controller/notify/outbox.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const DISCORD_PATH = '/discord/api/webhooks/4242/discord-secret-token';
const HOOK_PATH = '/hook/hook-secret-token';

interface Delivery {
  path: string;
  body: string;
}

/**
 * Discord and a generic webhook, both on loopback: each distinct message is refused twice with a 503
 * before it is taken, so every message goes through the retry path.
 */
async function flakyReceiver() {
  const attempts = new Map<string, number>();
  const delivered: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const seen = `${req.url} ${body}`;
      const nth = (attempts.get(seen) ?? 0) + 1;
      attempts.set(seen, nth);
      if (nth <= 2) return void res.writeHead(503).end();
      delivered.push({ path: req.url ?? '', body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    delivered,
    attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('notifications over a whole life cycle (local driver, real game, real client)', () => {
  let home: OodHome;
  let serving: Serving;
  let rx: Awaited<ReturnType<typeof flakyReceiver>>;
  beforeAll(async () => {
    rx = await flakyReceiver();
    home = await makeOodHome({
      config: { notifications: { discord: true, webhook: true } },
      server: { idle: { emptyAfter: '2s', neverJoined: '1h', warnings: ['1s'] } },
    });
    serving = await serveInProcess(home.configPath, { OOD_DISCORD_WEBHOOK_URL: rx.base + DISCORD_PATH, OOD_WEBHOOK_URL: rx.base + HOOK_PATH });
  });
  afterAll(async () => {
    await serving?.close();
    await rx?.close();
    await home?.cleanup();
  });

  it('tells both targets starting, up, empty and archived, once each and in order, with no secret in them', async () => {
    const api = apiFor(serving.url);
    expect((await api.start()).status).toBe(202);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000);
    const rconPassword = parseProperties(readFileSync(join(home.hostDir(), 'server.properties'), 'utf8')).get('rcon.password')!;
    expect(rconPassword).toBeTruthy();

    const bot = await joinBot(home.gamePort, 'Alex_1');
    await waitUntil('the API to count Alex_1', async () => (await api.server()).players.names.includes('Alex_1'));
    await leave(bot);
    await waitUntil('archived', async () => {
      const s = await api.server();
      return s.phase === 'archived' && s.desired === 'down';
    }, 60_000);
    const [archive] = await listArchives(home.archiveDir());
    const snapshot = archive!.name.replace(/\.tar\.gz$/, '');

    // Each message is refused twice (backoff 2 s, then 4 s) and the targets take them one at a time,
    // in order: four messages take about 24 s after the start.
    const hooks = () => rx.delivered.filter((d) => d.path === HOOK_PATH).map((d) => JSON.parse(d.body) as Record<string, unknown>);
    const discords = () => rx.delivered.filter((d) => d.path === DISCORD_PATH).map((d) => JSON.parse(d.body) as { content: string });
    await waitUntil('all eight messages', () => hooks().length >= 4 && discords().length >= 4, 90_000, 200);
    // Time for a duplicate, had one been on its way (a retry of a delivered message comes within 2 s).
    await new Promise((r) => setTimeout(r, 3_000));

    const port = home.gamePort;
    expect(hooks().map((h) => h.event)).toEqual(['starting', 'up', 'empty', 'archived']);
    expect(hooks().map((h) => h.text)).toEqual([
      expect.stringMatching(/^\S.* is starting world( — ready in about \d+ (s|min))?$/),
      `world is up at 127.0.0.1:${port}`,
      'world is empty — archiving in 2 s',
      `world is archived as ${snapshot}`,
    ]);
    expect(hooks()).toMatchObject([
      { event: 'starting', server: 'world', by: expect.any(String) },
      { event: 'up', server: 'world', address: `127.0.0.1:${port}` },
      { event: 'empty', server: 'world', stopsAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      { event: 'archived', server: 'world', snapshot },
    ]);
    for (const h of hooks()) expect(new Date(h.at as string).toISOString()).toBe(h.at);

    expect(discords().map((d) => d.content)).toEqual([
      expect.stringMatching(/ is starting world/),
      `world is up at 127.0.0.1:${port}`,
      'world is empty — archiving in 2 s',
      `world is archived as ${snapshot}`,
    ]);
    for (const d of discords()) expect(d).toMatchObject({ allowed_mentions: { parse: [] }, flags: 4, username: 'OoD' });

    // Every distinct message was tried exactly three times: two refusals, one delivery, never a fourth.
    expect([...rx.attempts.values()]).toEqual(Array(8).fill(3));
    const outbox = new OutboxRepo(serving.controller.store.db).list();
    expect(outbox).toHaveLength(8);
    for (const row of outbox) expect(row).toMatchObject({ attempts: 3, givenUpAt: null, sendingSince: null, lastError: null, deliveredAt: expect.any(Number) });

    const everything = rx.delivered.map((d) => d.body).join('\n');
    for (const secret of ['discord-secret-token', 'hook-secret-token', '/api/webhooks', DISCORD_PATH, HOOK_PATH, TEST_TOKEN, rconPassword]) {
      expect(everything).not.toContain(secret);
    }
  });
});
