import { describe, expect, it } from 'vitest';
import { ConnectionTable, type Held } from './connection-table.js';
import { DescriptorBudget } from './descriptor-budget.js';

let clock = 0;
function held(key: string, lastActive = clock, cost = 1, established = false): Held & { dropped: boolean } {
  const h = { key, cost, since: ++clock, lastActive: () => lastActive, evictable: () => !established, dropped: false, drop: () => void (h.dropped = true) };
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

  it('never evicts an established session to make room: a household behind one address keeps its game', () => {
    const table = new ConnectionTable(8, 10, new DescriptorBudget(100));
    const house = [held('house', 0, 2, true), held('house', 0, 2, true)];
    house.forEach((h) => table.add(h));
    for (let i = 1; i <= 8; i++) table.add(held(`attacker-${i}`, 50));
    expect(table.admit('attacker-9', 1)).toEqual({ ok: false, reason: 'global cap' });
    expect(house.some((h) => h.dropped)).toBe(false);
  });

  it('evicts only connections still silent or in handshake/status, from the address holding the most of them', () => {
    const table = new ConnectionTable(8, 6, new DescriptorBudget(100));
    const playing = [held('x', 0, 1, true), held('x', 0, 1, true), held('x', 0, 1, true)];
    playing.forEach((h) => table.add(h));
    const early = [held('y', 20), held('y', 10), held('y', 30)];
    early.forEach((h) => table.add(h));
    const admitted = table.admit('z', 1);
    expect(admitted.ok && admitted.dropped).toBe(early[1]);
    expect(playing.some((h) => h.dropped)).toBe(false);
  });

  it('keeps each lobby its share of a shared descriptor budget: a flood on one cannot lock out another', () => {
    const budget = new DescriptorBudget(24);
    const flooded = new ConnectionTable(8, 1_000, budget);
    const other = new ConnectionTable(8, 1_000, budget);
    budget.join(flooded);
    budget.join(other);
    const flood: ReturnType<typeof held>[] = [];
    for (let a = 1; a <= 3; a++) for (let i = 0; i < 8; i++) if (flooded.admit(`10.0.0.${a}`, 1).ok) flooded.add(flood[flood.push(held(`10.0.0.${a}`, i)) - 1]!);
    expect(budget.used).toBe(24);
    const admitted = other.admit('192.0.2.9', 1);
    expect(admitted).toMatchObject({ ok: true });
    expect(flood.filter((h) => h.dropped)).toHaveLength(1);
    other.add(held('192.0.2.9'));
    expect(budget.used).toBe(24);
    // The flooded lobby gets no more than the budget; past its share it only takes from itself.
    expect(flooded.admit('10.0.0.4', 1)).toMatchObject({ ok: true, dropped: { key: expect.stringMatching(/^10\.0\.0\.[123]$/) } });
  });
});
