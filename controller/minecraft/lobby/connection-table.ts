import type { DescriptorBudget } from './descriptor-budget.js';

/** One open connection as the caps see it: a lobby connection, or a proxied pair (client and game). */
export interface Held {
  /** What the caps count by (addressKey: an IPv4 address, an IPv6 /64). */
  readonly key: string;
  /** File descriptors it holds: 1 for a lobby connection, 2 for a proxied one. */
  readonly cost: number;
  /** When it was accepted. */
  readonly since: number;
  /** When a byte last came from its client (or, proxied, from either side). */
  lastActive(): number;
  /** Ends it at once. */
  drop(): void;
}

export type Admission = { ok: true; dropped?: Held } | { ok: false; reason: 'per-address cap' | 'global cap' };

/**
 * The lobby's connection caps: at most `perKey` per address, `max` in all, and what fits the process's
 * descriptor budget. When the global cap or the budget is full, a newcomer that holds fewer connections
 * than the address holding the most takes the place of that address's idlest (then newest) connection:
 * a flood from many addresses cannot lock out a client that holds one or none.
 */
export class ConnectionTable {
  private readonly byKey = new Map<string, Set<Held>>();
  private count = 0;

  constructor(
    private readonly perKey: number,
    private readonly max: number,
    private readonly budget: DescriptorBudget,
  ) {}

  get size(): number {
    return this.count;
  }

  heldBy(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  /** Decides on a new connection from `key` costing `cost` descriptors; drops a victim when that makes room. */
  admit(key: string, cost: number): Admission {
    const own = this.heldBy(key);
    if (own >= this.perKey) return { ok: false, reason: 'per-address cap' };
    if (this.count < this.max && this.budget.fits(cost)) return { ok: true };
    const victim = this.victimFor(own, cost);
    if (!victim) return { ok: false, reason: 'global cap' };
    this.remove(victim);
    victim.drop();
    return { ok: true, dropped: victim };
  }

  add(held: Held): void {
    let set = this.byKey.get(held.key);
    if (!set) this.byKey.set(held.key, (set = new Set()));
    set.add(held);
    this.count++;
    this.budget.take(held.cost);
  }

  /** Idempotent: a connection dropped to make room is removed at once, and again when it closes. */
  remove(held: Held): void {
    const set = this.byKey.get(held.key);
    if (!set?.delete(held)) return;
    if (set.size === 0) this.byKey.delete(held.key);
    this.count--;
    this.budget.give(held.cost);
  }

  /**
   * The idlest (then newest) connection of the address holding the most, when that address holds at
   * least two more than the newcomer (so two addresses never take turns dropping each other) and
   * dropping it frees enough descriptors. Linear in the addresses held, which the global cap bounds.
   */
  private victimFor(newcomerHolds: number, cost: number): Held | undefined {
    let top: Set<Held> | undefined;
    for (const set of this.byKey.values()) if (!top || set.size > top.size) top = set;
    if (!top || top.size < newcomerHolds + 2) return undefined;
    let victim: Held | undefined;
    for (const held of top) {
      if (!victim || held.lastActive() < victim.lastActive() || (held.lastActive() === victim.lastActive() && held.since >= victim.since)) victim = held;
    }
    if (!victim || this.budget.used - victim.cost + cost > this.budget.max) return undefined;
    return victim;
  }
}
