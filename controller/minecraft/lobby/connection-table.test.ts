import { describe, expect, it } from 'vitest';
import { ConnectionTable, type Held } from './connection-table.js';
import { DescriptorBudget } from './descriptor-budget.js';

let clock = 0;
function held(key: string, lastActive = clock, cost = 1): Held & { dropped: boolean } {
  const h = { key, cost, since: ++clock, lastActive: () => lastActive, dropped: false, drop: () => void (h.dropped = true) };
  return h;
}

describe('connection table', () => {
  it('refuses past the per-address cap, and past a full global cap when the newcomer holds as much as anyone', () => {
    const table = new ConnectionTable(2, 4, new DescriptorBudget(100));
    for (const key of ['a', 'a', 'b', 'b']) {
      expect(table.admit(key, 1)).toEqual({ ok: true });
      table.add(held(key));
    }
    expect(table.admit('a', 1)).toEqual({ ok: false, reason: 'per-address cap' });
    // c holds none: it takes the place of the idlest (then newest) connection of a top holder.
    const admitted = table.admit('c', 1);
    expect(admitted.ok && admitted.dropped?.key).toBe('a');
    expect(table.size).toBe(3);
  });

  it('drops the idlest connection of the address holding the most, and counts descriptors', () => {
    const budget = new DescriptorBudget(6);
    const table = new ConnectionTable(8, 100, budget);
    const busy = held('x', 50, 2);
    const idle = held('x', 10, 2);
    table.add(busy);
    table.add(idle);
    table.add(held('y', 0, 2));
    expect(budget.used).toBe(6);
    const admitted = table.admit('z', 2);
    expect(admitted).toMatchObject({ ok: true });
    expect(idle.dropped).toBe(true);
    expect(busy.dropped).toBe(false);
    expect(budget.used).toBe(4);
    table.remove(idle); // its close comes later: counted once
    expect(budget.used).toBe(4);
  });
});
