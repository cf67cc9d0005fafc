import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { Store } from './store.js';

describe('ServerRepo on a real SQLite file', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-store-'));
    store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['world'], 1_000);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves a phase only from the phase the caller saw', () => {
    store.servers.move('world', 'archived', 'provisioning', 2_000);
    expect(() => store.servers.move('world', 'archived', 'provisioning', 3_000)).toThrow(StoreError);
    expect(store.servers.get('world')).toMatchObject({ phase: 'provisioning', phaseSince: 2_000 });
  });

  it('records every request time, and says whether the wanted state changed', () => {
    expect(store.servers.setDesired('world', 'up', 'ann', 2_000)).toBe(true);
    expect(store.servers.setDesired('world', 'up', 'bob', 3_000)).toBe(false);
    expect(store.servers.get('world')).toMatchObject({ desired: 'up', desiredAt: 3_000, desiredBy: 'bob' });
    expect(() => store.servers.setDesired('nope', 'up', 'ann', 4_000)).toThrow(StoreError);
  });

  it('keeps its rows across a reopen (migrations run once)', () => {
    store.servers.setDesired('world', 'up', 'ann', 2_000);
    store.close();
    store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['world'], 9_000);
    expect(store.servers.get('world')).toMatchObject({ desired: 'up', desiredAt: 2_000 });
  });
});
