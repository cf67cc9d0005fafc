import type { Config } from '../config/schema.js';
import type { MonthCost } from '../cost/billing.js';

const round = (usd: number | null) => (usd === null ? null : Math.round(usd * 10_000) / 10_000);

/** The API's shape of the month's cost (`ood cost`, the web page). Dollars to 4 places. */
export function costJson(cost: MonthCost, config: Config) {
  const budget = config.budget.monthlyUsd;
  return {
    month: new Date(cost.monthStart).toISOString().slice(0, 7),
    asOf: new Date(cost.now).toISOString(),
    usd: {
      monthToDate: round(cost.totalUsd),
      droplets: round(cost.dropletsUsd),
      snapshots: round(cost.snapshotsUsd),
      forecast: round(cost.forecastUsd),
      // null, not $0.00, when a size has no known price: `pricesError` says why.
      alwaysOn: cost.unpricedSizes.length > 0 ? null : round(cost.alwaysOnUsd),
      perPlayerHour: round(cost.perPlayerHourUsd),
    },
    pricesError: cost.pricesError ?? null,
    // The world versions on this machine (local archives, copies off the cloud): disk this machine pays for, not DigitalOcean.
    disk: cost.disk ? { bytes: cost.disk.bytes, archives: cost.disk.archivesBytes, copies: cost.disk.copiesBytes } : null,
    hours: Math.round(cost.hours * 100) / 100,
    playerHours: Math.round(cost.playerHours * 100) / 100,
    budget: budget === undefined ? null : { monthlyUsd: budget, used: round(cost.totalUsd / budget), warning: cost.totalUsd >= budget * config.budget.warnAt },
    sessions: cost.sessions.map((s) => ({
      server: s.session.server,
      size: s.session.size,
      startedAt: new Date(s.session.startedAt).toISOString(),
      endedAt: s.session.endedAt === null ? null : new Date(s.session.endedAt).toISOString(),
      hours: Math.round((s.seconds / 3600) * 100) / 100,
      usd: round(s.usd),
      playerHours: Math.round((s.session.playerSeconds / 3600) * 100) / 100,
    })),
  };
}

export type CostJson = ReturnType<typeof costJson>;
