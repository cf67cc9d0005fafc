import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { ServerCards } from '../controller/web/cards.js';
import { costLine } from '../controller/web/pages/cost.js';
import { serverCard } from '../controller/web/pages/server-card.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { ood } from './helpers/ood-cli.js';
import { freePort } from './helpers/ood-home.js';
import { realPulumiBinDir } from './helpers/real-pulumi.js';

/**
 * Issue 18 item 1: a DigitalOcean server whose every check fails (API unreachable, token refused)
 * says so: `lastError` and `alert` in the API, the card, `ood status`, one journal row when it starts
 * failing and one when it recovers, and `ood start --wait` ends with the error instead of waiting.
 * No droplets here: the API is a closed port, or a tiny server that refuses the token and then
 * answers empty lists.
 */
const admin = { person: { identity: 'local:admin', name: 'admin', avatar: null, permissions: ['admin'], minecraftName: null, addedAt: 0, addedBy: 'test', lastLogin: null }, csrf: 'x' } as never;

describe('a DigitalOcean server whose checks fail says why, everywhere', () => {
  const dirs: string[] = [];
  let serving: Serving | undefined;
  let pulumiBin: string;
  beforeAll(async () => {
    pulumiBin = `${await realPulumiBinDir()}/pulumi`;
  }, 30 * 60_000);
  afterEach(async () => {
    await serving?.close();
    serving = undefined;
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** An ood.yaml for one DigitalOcean server, and the environment pointing the controller at `apiUrl`. */
  const home = (apiUrl: string, pulumiCommand = pulumiBin) => {
    const dir = mkdtempSync(join(tmpdir(), 'ood-visible-errors-'));
    dirs.push(dir);
    const configPath = join(dir, 'ood.yaml');
    writeFileSync(
      configPath,
      stringify({
        dataDir: './data',
        listen: { host: '127.0.0.1', port: 0 },
        log: { level: 'warn' },
        pulumi: { command: pulumiCommand },
        reconcile: { fastTick: '100ms', slowTick: '500ms', playerProbe: '250ms', backoff: '200ms', maxBackoff: '1s' },
        servers: [{ id: 'world', driver: 'digitalocean' }],
      }),
    );
    const env = { DIGITALOCEAN_TOKEN: 'dop_v1_visible_errors_test', DIGITALOCEAN_API_URL: apiUrl, OOD_ADMIN_TOKEN: TEST_TOKEN, PULUMI_SKIP_UPDATE_CHECK: 'true', PULUMI_CONFIG_PASSPHRASE: 'visible-errors' };
    return { dir, configPath, env };
  };
  const cli = (h: ReturnType<typeof home>, args: string[], timeoutMs = 30_000) =>
    ood([...args, '--config', h.configPath, '--url', serving!.url], { env: { ...h.env, TZ: 'UTC' }, timeoutMs });
  const checks = async () => (await apiFor(serving!.url).journal()).filter((e) => e.step === 'observe');
  const until = async <T>(what: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await what();
      if (ok(v) || Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('DigitalOcean unreachable: named in lastError, the card, status and the prices line; --wait ends with it', async () => {
    const h = home(`http://127.0.0.1:${await freePort()}`);
    serving = await serveInProcess(h.configPath, h.env);
    const api = apiFor(serving.url);
    // Each failing check waits out the API client's own retries (about 15 s) first.
    const server = await until(() => api.server(), (s) => s.lastError !== null, 60_000);
    expect(server.lastError).toMatch(/DigitalOcean GET \/v2\/droplets.*no answer.*did not answer at http:\/\/127\.0\.0\.1:\d+.*DIGITALOCEAN_API_URL/);
    expect(server.alert).toMatch(/OoD could not check on world/);

    const card = serverCard(admin, new ServerCards(serving.controller, serving.controller.config).one('world'), Date.now()).text;
    expect(card).toContain('Needs attention');
    expect(card).toMatch(/did not answer at http:\/\/127\.0\.0\.1/);
    expect(card).toContain('>Start<');
    expect(card).toContain('>Stop<');

    const started = Date.now();
    const waited = await cli(h, ['start', 'world', '--wait', '--timeout', '2m'], 90_000);
    expect(waited.code, waited.stdout + waited.stderr).not.toBe(0);
    expect(waited.stderr).toMatch(/world: OoD could not check on it \(\d+ failures? in a row\): DigitalOcean GET \/v2\/droplets.*did not answer/);
    // One more failing check after the request (the client's retries), not the 2 minutes of --timeout.
    expect(Date.now() - started).toBeLessThan(45_000);

    const status = await cli(h, ['status']);
    expect(status.stdout).toMatch(/world.*archived.*up.*DigitalOcean GET \/v2\/droplets/);
    expect(status.stdout).toMatch(/!! world: OoD could not check on world/);

    // Many failed ticks by now, one journal row.
    expect((await checks()).map((e) => e.outcome)).toEqual(['error']);
    expect(costLine(serving.controller).text).toMatch(/prices could not be fetched.*did not answer/);
    expect(costLine(serving.controller).text).not.toContain('$0.00 if always on');
  }, 180_000);

  it('token refused: says to make a new token; recovery is one more journal row and clears the error', async () => {
    let refuse = true;
    const fake: Server = createServer((req, res) => {
      if (refuse) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"id":"unauthorized","message":"Unable to authenticate you"}');
      const name = /^\/v2\/([a-z_]+)/.exec(req.url ?? '')?.[1] ?? 'items';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ [name]: [], links: {}, meta: { total: 0 } }));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const h = home(`http://127.0.0.1:${(fake.address() as AddressInfo).port}`);
      serving = await serveInProcess(h.configPath, h.env);
      const api = apiFor(serving.url);
      const server = await until(() => api.server(), (s) => s.lastError !== null, 20_000);
      expect(server.lastError).toMatch(/401 unauthorized: Unable to authenticate you.*DigitalOcean refused the token.*DIGITALOCEAN_TOKEN/);
      const waited = await cli(h, ['start', 'world', '--wait'], 30_000);
      expect(waited.code).not.toBe(0);
      expect(waited.stderr).toMatch(/DigitalOcean refused the token/);
      await until(checks, (rows) => rows.length > 0, 5_000);

      refuse = false;
      const healed = await until(() => api.server(), (s) => s.alert === null, 20_000);
      expect(healed.lastError).toBeNull();
      expect(healed.alert).toBeNull();
      const rows = await checks();
      expect(rows.map((e) => e.outcome)).toEqual(['error', 'ok']);
      expect(rows[1]!.detail).toMatch(/Checked on world again after \d+ failed checks?/);

      // The CLI's journal: newest first, times in the one CLI format.
      const journal = await cli(h, ['journal', 'world']);
      const lines = journal.stdout.trim().split('\n').slice(1);
      expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s/);
      const recovered = lines.findIndex((l) => l.includes('Checked on world again'));
      const failed = lines.findIndex((l) => l.includes('DigitalOcean refused the token'));
      expect(recovered).toBeGreaterThanOrEqual(0);
      expect(recovered).toBeLessThan(failed);
    } finally {
      fake.closeAllConnections();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  }, 120_000);

  it('pulumi gone after start-up: Start fails at once, saying how to install it or set pulumi.command', async () => {
    const fake: Server = createServer((req, res) => {
      const name = /^\/v2\/([a-z_]+)/.exec(req.url ?? '')?.[1] ?? 'items';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ [name]: [], links: {}, meta: { total: 0 } }));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ood-visible-errors-bin-'));
      dirs.push(dir);
      const link = join(dir, 'pulumi-that-goes');
      symlinkSync(pulumiBin, link);
      const h = home(`http://127.0.0.1:${(fake.address() as AddressInfo).port}`, link);
      serving = await serveInProcess(h.configPath, h.env);
      unlinkSync(link);
      const waited = await cli(h, ['start', 'world', '--wait'], 60_000);
      expect(waited.code).not.toBe(0);
      expect(waited.stderr).toMatch(/pulumi-that-goes.*https:\/\/www\.pulumi\.com\/docs\/install\/.*pulumi\.command/);
      expect((await apiFor(serving.url).server()).lastError).toMatch(/pulumi\.command/);
    } finally {
      fake.closeAllConnections();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  }, 120_000);
});
