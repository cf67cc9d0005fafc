import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { Store } from './store.js';

describe('ServerRepo.list, which keeps its last answer until a write', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-store-list-'));
    store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['b', 'a'], 1_000);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const phases = () => store.servers.list().map((s) => `${s.id}:${s.phase}:${s.lastError ?? ''}`);

  it('lists every server by id, as get reads each', () => {
    expect(store.servers.list()).toEqual([store.servers.get('a'), store.servers.get('b')]);
  });

  it('sees each write made through the repo', () => {
    expect(phases()).toEqual(['a:archived:', 'b:archived:']);
    store.servers.move('a', 'archived', 'provisioning', 2_000);
    expect(phases()).toEqual(['a:provisioning:', 'b:archived:']);
    store.servers.setLastError('b', 'boom');
    expect(phases()).toEqual(['a:provisioning:', 'b:archived:boom']);
    store.servers.setDesired('b', 'up', 'ann', 3_000);
    expect(store.servers.list()[1]).toMatchObject({ desired: 'up', desiredBy: 'ann', requests: 1 });
  });

  it('sees a write committed by another connection to the same file', () => {
    expect(phases()).toEqual(['a:archived:', 'b:archived:']);
    const other = openDb(join(dir, 'ood.db'));
    other.prepare("UPDATE servers SET phase = 'failed' WHERE id = 'b'").run();
    other.close();
    expect(phases()).toEqual(['a:archived:', 'b:failed:']);
  });

  it('never keeps rows of a transaction that rolled back', () => {
    expect(phases()).toEqual(['a:archived:', 'b:archived:']);
    expect(() =>
      store.db.transaction(() => {
        store.servers.setLastError('a', 'not committed');
        expect(phases()).toEqual(['a:archived:not committed', 'b:archived:']);
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    expect(phases()).toEqual(['a:archived:', 'b:archived:']);
  });

  it('hands out states no caller can change under the others', () => {
    const [a] = store.servers.list();
    expect(() => Object.assign(a!, { phase: 'running' })).toThrow(TypeError);
    expect(() => Object.assign(a!.progress, { attempts: 1 })).toThrow(TypeError);
    expect(store.servers.list()[0]!.phase).toBe('archived');
  });
});
