import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CostJson } from '../controller/api/cost-json.js';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { serveInProcess } from './helpers/in-process.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs } from './helpers/web-client.js';

// The world's droplets are on a loopback block it claimed (test/helpers/loopback-block.ts).
describe('the cost meter and the budget on DigitalOcean', () => {
  let world: DoWorld;
  let serving: Serving;

  beforeAll(async () => {
    world = await makeDoWorld({ server: { digitalocean: { size: 's-1vcpu-1gb' } } });
    // A budget of a cent: one session's minimum charge reaches it.
    const config = parse(readFileSync(world.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(world.configPath, stringify({ ...config, budget: { monthlyUsd: 0.011, warnAt: 0.5 } }));
    serving = await serveInProcess(world.configPath, world.env);
  }, 120_000);
  afterAll(async () => {
    await serving?.close();
    await world?.cleanup();
  });

  it('bills a session per second with the minimum, records the snapshot, then refuses a start past the budget unless an admin overrides', async () => {
    const api = apiFor(serving.url);
    const phase = async () => (await api.server()).phase;
    expect((await api.start()).status).toBe(202);
    await waitUntil('running', async () => (await phase()) === 'running', 180_000, 250);
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived', async () => (await phase()) === 'archived', 180_000, 250);
    // The snapshot list is read for the meter just after the stop.
    await waitUntil('the snapshot to be metered', () => serving.controller.store.billing.snapshotsSince(0).some((s) => s.deletedAt === null && /^ood-[0-9a-f]{8}-world-\d+$/.test(s.name)), 15_000);

    const cost = (await api.call('GET', '/api/cost')).body as unknown as CostJson;
    expect(cost.sessions).toHaveLength(1);
    const session = cost.sessions[0]!;
    expect(session).toMatchObject({ server: 'world', size: 's-1vcpu-1gb' });
    expect(session.endedAt).not.toBeNull();
    // Under a minute of a $0.00893/h droplet: the $0.01 minimum.
    expect(session.usd).toBe(0.01);
    expect(cost.usd.droplets).toBe(0.01);
    expect(cost.usd.alwaysOn).toBe(6);
    expect(cost.usd.monthToDate!).toBeGreaterThanOrEqual(0.01);
    expect(cost.budget).toMatchObject({ monthlyUsd: 0.011, warning: true });

    const refused = await api.start();
    expect(refused.status).toBe(409);
    expect(String(refused.body.error)).toMatch(/^Starting world would go past this month's budget: \$0\.01 spent so far, a session costs about \$0\.01, and the cap is \$0\.01/);
    expect((await api.server()).desired).toBe('down');

    // Someone who may start, but is no admin, cannot override; the page says so too.
    serving.controller.store.people.put('github:3', ['start'], 'test', Date.now());
    const starter = await loginAs(serving, 'github:3');
    const pressed = await starter.post('/servers/world/start');
    expect(pressed.status).toBe(409);
    expect(pressed.text).toContain("past this month&#39;s budget");
    expect(pressed.text).not.toContain('Start world anyway');
    const forged = await starter.post('/servers/world/start', { override: '1' });
    expect(forged.status).toBe(409);

    // An admin's page offers the choice.
    const admin = await loginAs(serving, 'local:admin');
    const offered = await admin.post('/servers/world/start');
    expect(offered.status).toBe(409);
    expect(offered.text).toContain('Start world anyway');

    // The admin token may: the start goes through, and the audit log says it went past the budget.
    const override = await api.call('POST', '/api/servers/world/start', { body: JSON.stringify({ override: true }), headers: { 'content-type': 'application/json' } });
    expect(override.status).toBe(202);
    expect(serving.controller.store.audit.forServer('world')[0]).toMatchObject({ action: 'start', actor: 'admin-token', detail: 'past the budget' });
    await api.stop();
    await waitUntil('archived again', async () => (await phase()) === 'archived', 180_000, 250);
  }, 480_000);
});
