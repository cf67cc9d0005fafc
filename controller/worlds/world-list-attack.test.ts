import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigitalOceanDriver } from '../drivers/digitalocean/do-driver.js';
import { Store } from '../store/store.js';
import { forgetSnapshotListing, listWorlds } from './world-actions.js';

/**
 * The versions list (`GET /api/servers/:id/worlds`, the server's page) is open to every signed-in
 * person. On DigitalOcean each listing asked DigitalOcean for every snapshot: 10,000 loads of a page
 * were 10,000 API requests, past DigitalOcean's 5,000 an hour, after which the controller's own
 * starts, stops and snapshots are refused too. Listings within a few seconds share one answer; a
 * restore still reads a fresh one.
 */
describe('listing the world versions of a DigitalOcean server many times', () => {
  let dir: string;
  let store: Store;
  let asked = 0;
  let driver: DigitalOceanDriver;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-world-list-'));
    store = Store.open(join(dir, 'ood.db'));
    asked = 0;
    driver = Object.create(DigitalOceanDriver.prototype) as DigitalOceanDriver;
    driver.ownSnapshots = async () => {
      asked++;
      await new Promise((r) => setTimeout(r, 5));
      return [];
    };
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const list = (fresh?: boolean) => listWorlds(driver, { store, dataDir: dir, server: 'world', now: Date.now(), ...(fresh ? { fresh } : {}) });

  it('asks DigitalOcean once for 1,000 listings close together, at once or one after another', async () => {
    await Promise.all(Array.from({ length: 500 }, () => list()));
    for (let i = 0; i < 500; i++) await list();
    expect(asked).toBe(1);
  });

  it('a fresh listing (a restore) asks again', async () => {
    await list();
    await list(true);
    expect(asked).toBe(2);
  });

  it("a phase change (a stop's snapshot and prune end theirs) or an adoption asks again", async () => {
    store.servers.ensure(['world'], 1_000);
    await list();
    await list();
    expect(asked).toBe(1);
    store.servers.move('world', 'archived', 'provisioning', 2_000);
    await list();
    expect(asked).toBe(2);
    forgetSnapshotListing(driver);
    await list();
    expect(asked).toBe(3);
  });
});
