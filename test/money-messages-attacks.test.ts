import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../controller/api/app.js';
import { parseConfig } from '../controller/config/load.js';
import { Controller } from '../controller/controller.js';
import { BudgetError } from '../controller/cost/cost-meter.js';
import { silentLogger } from '../controller/log.js';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const TOKEN = 'money-messages-test-token';
const SERVERS = ['s1', 's2', 's3', 's4'];
/** $0.10 an hour: a session (3 h when a server has none to go by) costs about $0.30. */
const PRICE = { hourly: 0.1, monthly: 67.2 };

/**
 * Four DigitalOcean servers with a budget. The controller is opened but not started: the test is about
 * what is decided when starts are pressed. A poke still runs a reconcile tick; its DigitalOcean API is
 * a loopback stand-in that refuses the token, so such a tick ends at once.
 */
describe('the budget counts servers already up', () => {
  let dir: string;
  let controller: Controller;
  let http: Server | undefined;
  let refusingApi: Server;
  let apiUrl: string;

  const open = (monthlyUsd: number, discordUrl?: string) => {
    const config = parseConfig(
      {
        dataDir: dir,
        budget: { monthlyUsd },
        notifications: { discord: discordUrl !== undefined, events: ['starting'] },
        pulumi: { command: '/bin/false' },
        servers: SERVERS.map((id) => ({ id, driver: 'digitalocean', digitalocean: { region: 'fra1', size: 's-1vcpu-1gb' } })),
      },
      dir,
    );
    controller = Controller.open(config, {
      log: silentLogger,
      childEnv: {},
      env: { digitalocean: { token: 'test-token', apiUrl }, pulumiEnv: {} },
      ...(discordUrl ? { notifications: { discordUrl } } : {}),
    });
    controller.store.billing.savePrices(new Map([['s-1vcpu-1gb', PRICE]]), Date.now());
    return controller;
  };

  const listen = async (): Promise<string> => {
    const { app } = createApp(controller, { adminToken: TOKEN, log: silentLogger, web: { providers: [], origin: 'http://127.0.0.1', sessionKeys: ['k'.repeat(32)] } });
    const server = (http = createServer(app.callback()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-money-'));
    refusingApi = createServer((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"id":"unauthorized","message":"Unable to authenticate you"}'));
    await new Promise<void>((resolve) => refusingApi.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(refusingApi.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    http = undefined;
    await controller?.close();
    refusingApi.closeAllConnections();
    await new Promise<void>((resolve) => refusingApi.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('four servers pressed at once with room for one session: exactly one starts, the others are told the numbers', async () => {
    open(0.4);
    const url = await listen();
    const answers = await Promise.all(
      SERVERS.map(async (id) => {
        const res = await fetch(`${url}/api/servers/${id}/start`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
        return { id, status: res.status, body: (await res.json()) as { error?: string } };
      }),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409]);
    const started = answers.find((a) => a.status === 202)!.id;
    expect(controller.store.servers.list().filter((s) => s.desired === 'up').map((s) => s.id)).toEqual([started]);
    for (const refused of answers.filter((a) => a.status === 409)) {
      expect(refused.body.error).toBe(
        `Starting ${refused.id} would go past this month's budget: $0.00 spent so far, a session costs about $0.30, and the cap is $0.40 (budget.monthlyUsd); ${started} is already up, counted at about $0.30 more. An admin can start it anyway.`,
      );
    }
  });

  it('names in Discord messages are plain text: no link, no preview, no ping', async () => {
    const bodies: { content: string; flags?: number; allowed_mentions?: unknown }[] = [];
    const discord = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body) as (typeof bodies)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => discord.listen(0, '127.0.0.1', resolve));
    try {
      open(100, `http://127.0.0.1:${(discord.address() as AddressInfo).port}/api/webhooks/1/token`).notifier.start();
      const names = ['https://evil.example/x', '@everyone', '**bold**', '[x](https://e.example)'];
      // As the lobby wakes a server: the Minecraft name is the one the message shows.
      names.forEach((name, i) => controller.want(SERVERS[i]!, 'up', { actor: `minecraft:${name}`, source: '127.0.0.1' }));
      await waitUntil('four messages', () => bodies.length === 4, 10_000);
      expect(bodies.map((b) => b.content.replace(/ — ready in about .*$/, '')).sort()).toEqual(
        ['https\\://evil.example/x', '@everyone', '\\*\\*bold\\*\\*', '\\[x\\](https\\://e.example)'].map((n, i) => `${n} is starting ${SERVERS[i]}`).sort(),
      );
      for (const body of bodies) {
        expect(body.content).not.toMatch(/[a-z]:\/\//i);
        expect(body).toMatchObject({ flags: 1 << 2, allowed_mentions: { parse: [] } });
      }
    } finally {
      discord.closeAllConnections();
      await new Promise<void>((resolve) => discord.close(() => resolve()));
    }
  });

  it('a server up longer than a usual session counts at its cost so far', () => {
    open(1);
    const now = Date.now();
    // s1 has been up 5 h ($0.50 so far), past its usual 3 h session.
    controller.store.billing.open('s1', 'digitalocean', 's-1vcpu-1gb', now - 5 * 3_600_000);
    controller.want('s1', 'up', { actor: 'test', source: 'test' }, { overrideBudget: true });
    // $0.50 spent + s1 nothing more + s2 $0.30 = $0.80: within $1.
    controller.want('s2', 'up', { actor: 'test', source: 'test' });
    // + s3 $0.30 = $1.10: over.
    const refused = (() => {
      try {
        controller.want('s3', 'up', { actor: 'test', source: 'test' });
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(BudgetError);
    expect((refused as Error).message).toContain('$0.50 spent so far, a session costs about $0.30, and the cap is $1.00 (budget.monthlyUsd); s1 and s2 are already up, counted at about $0.30 more.');
    expect(controller.view('s3').state.desired).toBe('down');
  });
});

/** The bundled game (offline mode) takes any name a client sends; OoD counts players from RCON `list`. */
describe('a player whose name holds commas', () => {
  let home: OodHome;
  let serving: Serving;
  afterEach(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it("is one player on the page and in the month's player-hours", async () => {
    home = await makeOodHome({ server: { idle: { emptyAfter: '1h', neverJoined: '1h' } } });
    serving = await serveInProcess(home.configPath);
    const api = apiFor(serving.url);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000);
    const bot = await joinBot(home.gamePort, 'Ann,Bob,Cy,Dee');
    const seen = await waitUntil('the API to count the player', async () => {
      const s = await api.server();
      return s.players.online > 0 && s.players;
    });
    expect(seen).toMatchObject({ online: 1, names: ['Ann,Bob,Cy,Dee'] });
    const joined = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await leave(bot);
    await waitUntil('the player to be seen leaving', async () => (await api.server()).players.online === 0, 10_000);
    const stayed = (Date.now() - joined) / 1000;
    // One player's time, not four players' (each probe is at most a second late, so allow a little).
    const [session] = serving.controller.store.billing.sessionsSince(0);
    expect(session!.playerSeconds, `player-seconds for a stay of ${stayed.toFixed(1)} s`).toBeGreaterThanOrEqual(1);
    expect(session!.playerSeconds, `player-seconds for a stay of ${stayed.toFixed(1)} s`).toBeLessThanOrEqual(stayed + 2);
    expect(serving.controller.store.sightings.list('world').map((x) => x.player)).toEqual(['Ann,Bob,Cy,Dee']);
  }, 120_000);
});
