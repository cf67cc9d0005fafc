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

/**
 * The file descriptors all lobbies of this process may hold together: a lobby connection costs one,
 * a proxied one two (client and game). What is left is the reserve, so the web pages, the API and the
 * drivers keep working however many clients connect.
 */
export class DescriptorBudget {
  private held = 0;

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
