import { describe, expect, it } from 'vitest';
import { Store } from './store.js';

describe('sessions', () => {
  it('sweeps expired rows in bounded batches, oldest first, and never a live one', () => {
    const store = Store.open(':memory:');
    for (let i = 0; i < 25; i++) store.sessions.set(`old-${i}`, {}, 1_000 + i);
    store.sessions.set('live', { identity: 'github:1' }, 100_000);
    const count = () => (store.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n;
    expect(store.sessions.sweep(50_000, 10)).toBe(10);
    expect(count()).toBe(16);
    expect(store.db.prepare("SELECT 1 FROM sessions WHERE id = 'old-0'").get()).toBeUndefined();
    expect(store.db.prepare("SELECT 1 FROM sessions WHERE id = 'old-24'").get()).toBeDefined();
    expect(store.sessions.sweep(50_000, 10)).toBe(10);
    expect(store.sessions.sweep(50_000, 10)).toBe(5);
    expect(store.sessions.sweep(50_000, 10)).toBe(0);
    expect(store.sessions.get('live', 50_000)).toEqual({ identity: 'github:1' });
  });
});
