// A server's history told as sessions: a local server started by two people in turn, each time with a
// player who joins and leaves until the idle stop archives it. The history page and `ood history` list
// two sessions, newest first, each with its starter, its player, how long it ran and what it left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { TEST_TOKEN, apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { ood } from './helpers/ood-cli.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs } from './helpers/web-client.js';

describe('history as sessions', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome({ server: { idle: { emptyAfter: '2s', neverJoined: '1h', warnings: [] } } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  /** `identity` presses Start on the page; `player` joins, plays a moment and leaves; the idle stop archives it. */
  async function session(identity: string, name: string, player: string): Promise<void> {
    const api = apiFor(serving.url);
    serving.controller.store.people.put(identity, ['start'], 'test', Date.now());
    const person = await loginAs(serving, identity);
    serving.controller.store.people.loggedIn(identity, { name, avatar: null }, Date.now());
    expect((await person.post('/servers/world/start')).status).toBe(303);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000);
    const bot = await joinBot(home.gamePort, player);
    await waitUntil(`the API to count ${player}`, async () => (await api.server()).players.names.includes(player), 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await leave(bot);
    await waitUntil('archived', async () => {
      const s = await api.server();
      return s.phase === 'archived' && s.desired === 'down';
    }, 60_000);
  }

  it('lists two sessions with the right starter and player on the page and in ood history', async () => {
    await session('github:501', 'Ann Starter', 'ann');
    await session('github:502', 'Bob Starter', 'bob');

    const admin = await loginAs(serving, LOCAL_ADMIN);
    const page = (await admin.get('/servers/world')).text;
    const sessions = page.split('<li class="session">').slice(1).map((s) => s.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '));
    expect(sessions).toHaveLength(2);
    // Newest first.
    expect(sessions[0]).toContain('Started by Bob Starter (github:502)');
    expect(sessions[0]).toContain('Played bob (');
    expect(sessions[0]).not.toMatch(/Played [^(]*ann/);
    expect(sessions[0]).toContain('Ended when idle');
    expect(sessions[0]).toMatch(/Saved as ood-\d+\.tar\.gz/);
    expect(sessions[0]).toContain('Cost nothing (this machine)');
    expect(sessions[1]).toContain('Started by Ann Starter (github:501)');
    expect(sessions[1]).toContain('Played ann (');
    expect(sessions[1]).toMatch(/Journal: \d+ steps/);
    // The journal is behind each session, not a page-long table.
    expect(page).not.toContain('<table><caption class="visually-hidden">Steps');

    const cli = await ood(['history', 'world', '--url', serving.url], { cwd: home.dir, env: { OOD_ADMIN_TOKEN: TEST_TOKEN }, timeoutMs: 120_000 });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const lines = cli.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('STARTED'));
    expect(lines[header]).toMatch(/^STARTED\s+STARTED BY\s+PLAYED\s+RAN\s+COST\s+ENDED\s+SAVED AS/);
    expect(lines[header + 1]).toMatch(/Bob Starter \(github:502\)\s+bob\s+.*when idle\s+ood-\d+\.tar\.gz/);
    expect(lines[header + 2]).toMatch(/Ann Starter \(github:501\)\s+ann\s+.*when idle\s+ood-\d+\.tar\.gz/);
  }, 240_000);
});
