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
  /**
   * Whether it may be dropped to make room: a lobby connection still silent or in handshake/status,
   * a proxied one until bytes have gone both ways. Never a login being answered or a game session.
   */
  evictable(): boolean;
  /** Ends it at once. */
  drop(): void;
}

export type Admission = { ok: true; dropped?: Held } | { ok: false; reason: 'per-address cap' | 'global cap' };

/**
 * The lobby's connection caps: at most `perKey` per address, `max` in all, and what fits the process's
 * descriptor budget. When the global cap or the budget is full, a newcomer takes the place of the
 * idlest (then newest) evictable connection (see Held.evictable) of the address holding the most
 * evictable ones, when that address holds at least two more than the newcomer. An established session
 * is never dropped for a newcomer: it is only ever refused at its own per-address cap. A lobby within
 * its share of the budget (DescriptorBudget.share) takes room back from a lobby over its share.
 */
export class ConnectionTable {
  private readonly byKey = new Map<string, Set<Held>>();
  private count = 0;
  private descriptors = 0;

  constructor(
    private readonly perKey: number,
    private readonly max: number,
    private readonly budget: DescriptorBudget,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Descriptors this table holds (its part of the shared budget). */
  get used(): number {
    return this.descriptors;
  }

  heldBy(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  /** Decides on a new connection from `key` costing `cost` descriptors; drops a victim when that makes room. */
  admit(key: string, cost: number): Admission {
    const own = this.heldBy(key);
    if (own >= this.perKey) return { ok: false, reason: 'per-address cap' };
    const full = this.count >= this.max;
    if (!full && this.budget.fits(cost)) return { ok: true };
    if (!full && this.descriptors + cost <= this.budget.share()) {
      const taken = this.budget.reclaim<Held>(cost, this);
      if (taken) return { ok: true, dropped: taken };
    }
    const victim = this.victimFor(own + 2, cost);
    if (!victim) return { ok: false, reason: 'global cap' };
    this.evict(victim);
    return { ok: true, dropped: victim };
  }

  add(held: Held): void {
    let set = this.byKey.get(held.key);
    if (!set) this.byKey.set(held.key, (set = new Set()));
    set.add(held);
    this.count++;
    this.descriptors += held.cost;
    this.budget.take(held.cost);
  }

  /** Idempotent: a connection dropped to make room is removed at once, and again when it closes. */
  remove(held: Held): void {
    const set = this.byKey.get(held.key);
    if (!set?.delete(held)) return;
    if (set.size === 0) this.byKey.delete(held.key);
    this.count--;
    this.descriptors -= held.cost;
    this.budget.give(held.cost);
  }

  /** For another lobby within its share: drops this table's best victim, if it has an evictable one. */
  evictOne(): Held | undefined {
    const victim = this.victimFor(1, 0);
    if (victim) this.evict(victim);
    return victim;
  }

  private evict(victim: Held): void {
    this.remove(victim);
    victim.drop();
  }

  /**
   * The idlest (then newest) evictable connection of the address holding the most evictable ones, when
   * that address holds at least `atLeast` in all (so two addresses never take turns dropping each
   * other) and dropping it frees enough descriptors. Linear in what is held, which the caps bound.
   */
  private victimFor(atLeast: number, cost: number): Held | undefined {
    let top: Held[] = [];
    for (const set of this.byKey.values()) {
      if (set.size < atLeast || set.size <= top.length) continue;
      const early = [...set].filter((held) => held.evictable());
      if (early.length > top.length) top = early;
    }
    let victim: Held | undefined;
    for (const held of top) {
      if (!victim || held.lastActive() < victim.lastActive() || (held.lastActive() === victim.lastActive() && held.since >= victim.since)) victim = held;
    }
    if (!victim || this.budget.used - victim.cost + cost > this.budget.max) return undefined;
    return victim;
  }
}
