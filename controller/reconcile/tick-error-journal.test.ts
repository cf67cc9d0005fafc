import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Driver } from '../drivers/driver.js';
import { silentLogger } from '../log.js';
import { Store } from '../store/store.js';
import { ServerRunner } from './loop.js';
import type { Observation } from './types.js';

const asleep: Observation = { host: 'absent', power: 'off', game: 'silent', players: null };

/**
 * A failing check is journaled once per run of failures, not once per tick (issue 18 item 1). An API
 * that fails every other check (a flaky network, a rate limit) makes a new run each time: the journal,
 * which OoD never prunes, must not grow by a row or two per tick for as long as that lasts.
 */
describe('the journal of a flapping check', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('stays bounded in time, not one row per tick', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ood-tick-error-'));
    dirs.push(dir);
    const config = parseConfig({ dataDir: dir, servers: [{ id: 'world' }] }, dir);
    const store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['world'], 0);
    let now = 1_000_000;
    let checks = 0;
    const driver = {
      observe: async () => {
        checks++;
        if (checks % 2 === 1) throw new Error('DigitalOcean GET /v2/droplets: no answer');
        return asleep;
      },
    } as unknown as Driver;
    const runner = new ServerRunner({ store, driver, server: config.servers[0]!, reconcile: config.reconcile, log: silentLogger, clock: () => now });
    const rows = () => store.journal.list('world').filter((e) => e.step === 'observe').length;
    // An hour of slow ticks (20 s) with every other check failing.
    for (let i = 0; i < 180; i++) {
      await (runner as unknown as { runTick(): Promise<void> }).runTick();
      now += config.reconcile.slowTick;
    }
    await runner.stop();
    const journaled = rows();
    store.close();
    expect(journaled, `${journaled} observe rows in an hour`).toBeGreaterThan(0);
    expect(journaled, `${journaled} observe rows in an hour`).toBeLessThanOrEqual(12);
  });

  it('still tells one run of failures and its end, and counts the brief runs it left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ood-tick-error-'));
    dirs.push(dir);
    const config = parseConfig({ dataDir: dir, servers: [{ id: 'world' }] }, dir);
    const store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['world'], 0);
    let now = 1_000_000;
    // Three failures, two good checks, one failure, then good again; twenty minutes later one more failure.
    const script = [false, false, false, true, true, false, true];
    let i = 0;
    const driver = {
      observe: async () => {
        const ok = script[i++] ?? true;
        if (!ok) throw new Error('DigitalOcean GET /v2/droplets: no answer');
        return asleep;
      },
    } as unknown as Driver;
    const runner = new ServerRunner({ store, driver, server: config.servers[0]!, reconcile: config.reconcile, log: silentLogger, clock: () => now });
    const tick = async () => {
      await (runner as unknown as { runTick(): Promise<void> }).runTick();
      now += config.reconcile.slowTick;
    };
    for (let t = 0; t < script.length; t++) await tick();
    now += 20 * 60_000;
    script.push(false, true);
    await tick();
    expect(runner.view().tickError?.failures).toBe(1);
    await tick();
    await runner.stop();
    const rows = store.journal.list('world').filter((e) => e.step === 'observe');
    store.close();
    expect(rows.map((e) => e.outcome)).toEqual(['error', 'ok', 'error', 'ok']);
    expect(rows[1]!.detail).toMatch(/after 3 failed checks/);
    expect(rows[2]!.detail).toMatch(/and 1 failed check in brief runs/);
  });
});
