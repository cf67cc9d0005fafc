import type { DiskUse } from './disk-use.js';

/**
 * DigitalOcean's billing, as pure arithmetic (DIGITALOCEAN.md): since 2026-01-01 droplets are billed
 * per second with a minimum of 60 s or $0.01, at most the size's monthly price in a month; snapshots
 * cost $0.06 per GB-month of their billed size, for as long as they exist. Months are UTC calendar months.
 */
export const SNAPSHOT_USD_PER_GB_MONTH = 0.06;
/** DigitalOcean's month for hourly rates and caps: 672 hours (28 days). */
export const BILLING_MONTH_HOURS = 672;

export interface Price {
  hourly: number;
  monthly: number;
}

/** A host's life: from its creation to its removal (null while it exists). */
export interface BilledSession {
  id: number;
  server: string;
  size: string | null;
  startedAt: number;
  endedAt: number | null;
  playerSeconds: number;
}

export interface BilledSnapshot {
  name: string;
  server: string;
  sizeGb: number;
  createdAt: number;
  deletedAt: number | null;
}

export function monthStart(at: number): number {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextMonthStart(at: number): number {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The part of [from, to) inside [start, end), in ms. */
export function overlap(from: number, to: number, start: number, end: number): number {
  return Math.max(0, Math.min(to, end) - Math.max(from, start));
}

/** One droplet's charge for `seconds` of life: per second, at least 60 s and at least $0.01. */
export function dropletCharge(seconds: number, price: Price): number {
  if (seconds <= 0) return 0;
  return Math.max((Math.max(seconds, 60) * price.hourly) / 3600, 0.01);
}

/** A snapshot's charge for `seconds` of its life. */
export function snapshotCharge(sizeGb: number, seconds: number): number {
  return (sizeGb * SNAPSHOT_USD_PER_GB_MONTH * seconds) / (BILLING_MONTH_HOURS * 3600);
}

export interface SessionCost {
  session: BilledSession;
  /** This month's part of the session, seconds. */
  seconds: number;
  /** null on a driver without prices (local) or a size whose price is unknown. */
  usd: number | null;
}

export interface MonthCost {
  monthStart: number;
  now: number;
  sessions: SessionCost[];
  dropletsUsd: number;
  snapshotsUsd: number;
  totalUsd: number;
  /** The month's whole cost if use goes on as so far, and snapshots stay as they are. */
  forecastUsd: number;
  /** What the same servers would cost left on all month (sizes in `unpricedSizes` count as nothing). */
  alwaysOnUsd: number;
  /** Sizes of the servers with no known price (DigitalOcean's prices never fetched): the sums leave them out. */
  unpricedSizes: string[];
  /** Why prices could not be fetched, when the last try failed (set by the cost meter). */
  pricesError?: string | null;
  /** The world versions kept on this machine, archives and copies (set by the cost meter, disk-use.ts). */
  disk?: DiskUse;
  hours: number;
  playerHours: number;
  perPlayerHourUsd: number | null;
}

/**
 * The month containing `now`, to `now`. A session that crosses a month boundary is billed in each month
 * for its part (its minimum charge in the month it began); a server's droplets are capped at its
 * size's monthly price per month.
 */
export function monthCost(o: { sessions: readonly BilledSession[]; snapshots: readonly BilledSnapshot[]; prices: ReadonlyMap<string, Price>; now: number; alwaysOnSizes: readonly string[] }): MonthCost {
  const start = monthStart(o.now);
  const end = nextMonthStart(o.now);
  const perServer = new Map<string, { usd: number; monthly: number }>();
  const sessions: SessionCost[] = [];
  let hours = 0;
  let playerSeconds = 0;
  for (const session of o.sessions) {
    const ms = overlap(session.startedAt, session.endedAt ?? o.now, start, o.now);
    const beganHere = session.startedAt >= start;
    if (ms <= 0 && !beganHere) continue;
    const price = session.size ? o.prices.get(session.size) : undefined;
    const seconds = ms / 1000;
    // The minimum charge belongs to the month the droplet was created in.
    const usd = price ? (beganHere ? dropletCharge(seconds, price) : (seconds * price.hourly) / 3600) : null;
    sessions.push({ session, seconds, usd });
    hours += seconds / 3600;
    const life = ((session.endedAt ?? o.now) - session.startedAt) / 1000;
    playerSeconds += life > 0 ? session.playerSeconds * (seconds / life) : 0;
    if (usd !== null && price) {
      const so = perServer.get(session.server)?.usd ?? 0;
      perServer.set(session.server, { usd: Math.min(price.monthly, so + usd), monthly: price.monthly });
    }
  }
  const dropletsUsd = [...perServer.values()].reduce((sum, s) => sum + s.usd, 0);
  let snapshotsUsd = 0;
  let snapshotsToMonthEnd = 0;
  for (const s of o.snapshots) {
    snapshotsUsd += snapshotCharge(s.sizeGb, overlap(s.createdAt, s.deletedAt ?? o.now, start, o.now) / 1000);
    if (s.deletedAt === null) snapshotsToMonthEnd += snapshotCharge(s.sizeGb, overlap(o.now, end, start, end) / 1000);
  }
  // Use so far, carried on at the same pace to the month's end; each server at most its monthly price.
  const pace = (end - start) / Math.max(1, o.now - start);
  const forecastDroplets = [...perServer.values()].reduce((sum, s) => sum + Math.min(s.monthly, s.usd * pace), 0);
  const totalUsd = dropletsUsd + snapshotsUsd;
  const alwaysOnUsd = o.alwaysOnSizes.reduce((sum, size) => sum + (o.prices.get(size)?.monthly ?? 0), 0);
  const unpricedSizes = [...new Set(o.alwaysOnSizes.filter((size) => !o.prices.has(size)))];
  const playerHours = playerSeconds / 3600;
  return {
    monthStart: start,
    now: o.now,
    sessions,
    dropletsUsd,
    snapshotsUsd,
    totalUsd,
    forecastUsd: forecastDroplets + snapshotsUsd + snapshotsToMonthEnd,
    alwaysOnUsd,
    unpricedSizes,
    hours,
    playerHours,
    perPlayerHourUsd: playerHours > 0 ? totalUsd / playerHours : null,
  };
}

/**
 * The always-on comparison as the prices line says it: a sum, or why there is none. Without prices
 * the sum is $0.00, which reads as a fact about DigitalOcean rather than a fetch that failed.
 */
export function alwaysOnWords(cost: Pick<MonthCost, 'alwaysOnUsd' | 'unpricedSizes' | 'pricesError'>): string {
  if (cost.unpricedSizes.length === 0) return `${usd(cost.alwaysOnUsd)} if always on`;
  const why = cost.pricesError ? `DigitalOcean's prices could not be fetched (${cost.pricesError})` : "DigitalOcean's prices are not fetched yet";
  return `always-on price unknown: ${why}; costs of ${cost.unpricedSizes.join(', ')} are left out`;
}

/** Dollars as people read them: $0.43, and $0.004 for amounts under a cent. */
export function usd(amount: number): string {
  return amount > 0 && amount < 0.01 ? `$${amount.toFixed(3)}` : `$${amount.toFixed(2)}`;
}
