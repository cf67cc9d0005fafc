import { readFileSync } from 'node:fs';

/** Assumed when /proc/self/limits cannot be read (not Linux): the usual default soft limit. */
const FALLBACK_LIMIT = 1_024;

/**
 * The soft RLIMIT_NOFILE from the text of /proc/self/limits (Node raises the soft limit to the hard
 * one at start, so this is the limit in force). `unlimited` reads as Infinity.
 */
export function softOpenFileLimit(limitsText: string): number | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === 'unlimited') return Infinity;
  const value = Number(soft);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Descriptors the lobbies leave to the controller itself (HTTP port, SQLite, drivers' SSH and children). */
export function reserveFor(limit: number): number {
  return Math.max(256, Math.ceil(Math.min(limit, 1_000_000) / 4));
}

/** A lobby's connection table as the shared budget sees it. */
export interface BudgetMember {
  /** Descriptors it holds. */
  readonly used: number;
  /** Drops its best victim (an evictable connection), if it has one. */
  evictOne(): { cost: number } | undefined;
}

/**
 * The file descriptors all lobbies of this process may hold together: a lobby connection costs one,
 * a proxied one two (client and game). What is left is the reserve, so the web pages, the API and the
 * drivers keep working however many clients connect. Each listening lobby is guaranteed an equal
 * share: a flood on one lobby can use more only while no other lobby within its share needs it.
 */
export class DescriptorBudget {
  private held = 0;
  private readonly members = new Set<BudgetMember>();

  constructor(readonly max: number) {}

  static forProcess(limitsText = readLimits()): DescriptorBudget {
    const limit = softOpenFileLimit(limitsText) ?? FALLBACK_LIMIT;
    return new DescriptorBudget(Number.isFinite(limit) ? Math.max(0, limit - reserveFor(limit)) : 1_000_000);
  }

  get used(): number {
    return this.held;
  }

  fits(cost: number): boolean {
    return this.held + cost <= this.max;
  }

  take(cost: number): void {
    this.held += cost;
  }

  give(cost: number): void {
    this.held = Math.max(0, this.held - cost);
  }

  /** A lobby that started listening: the shares are recomputed. */
  join(member: BudgetMember): void {
    this.members.add(member);
  }

  leave(member: BudgetMember): void {
    this.members.delete(member);
  }

  /** What each listening lobby is guaranteed. */
  share(): number {
    return Math.floor(this.max / Math.max(1, this.members.size));
  }

  /**
   * Frees room for `cost` descriptors for `asker` (a lobby within its share) by dropping evictable
   * connections of lobbies over their share; returns the first dropped, or undefined when it could
   * not make room (nothing dropped then, unless room was partly made).
   */
  reclaim<T extends { cost: number }>(cost: number, asker: BudgetMember): T | undefined {
    let first: T | undefined;
    for (const member of this.members) {
      while (member !== asker && member.used > this.share() && !this.fits(cost)) {
        const dropped = member.evictOne() as T | undefined;
        if (!dropped) break;
        first ??= dropped;
      }
      if (this.fits(cost)) return first;
    }
    return undefined;
  }
}

function readLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return ''; // not Linux: the fallback limit applies
  }
}

/** One budget for every lobby of this process. */
export const processDescriptors = DescriptorBudget.forProcess();
