/**
 * The headline scenario, costed by OoD's own meter (the same BillingRepo and CostMeter the controller
 * uses, on an in-memory SQLite): a 1 GB droplet, 10 hours of play a week in 3 sessions, the default
 * timeouts, a 2 GB world snapshot, over one 30-day month, against the same droplet always on.
 */
import { parseConfig } from '../../controller/config/load.js';
import { CostMeter } from '../../controller/cost/cost-meter.js';
import { usd } from '../../controller/cost/billing.js';
import { silentLogger } from '../../controller/log.js';
import { Store } from '../../controller/store/store.js';
import type { Row } from './digitalocean.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** What a start takes before play: creating the droplet from the snapshot and booting the game (measured on DigitalOcean: about 1–2 min). */
const START_OVERHEAD = 2 * MINUTE;
/** What a stop takes after the idle timer: save, shut down, snapshot 2 GB, confirm, destroy (a few minutes). */
const STOP_OVERHEAD = 5 * MINUTE;

function headline(keepSnapshots: number): { total: number; droplets: number; snapshots: number; alwaysOn: number; sessions: number; hours: number } {
  const config = parseConfig({ servers: [{ id: 'survival', driver: 'digitalocean', digitalocean: { size: 's-1vcpu-1gb', keepSnapshots } }] }, '/tmp');
  const server = config.servers[0]!;
  const store = Store.open(':memory:');
  const clock = { now: Date.UTC(2026, 10, 1) };
  const meter = new CostMeter({ store, config, drivers: new Map(), log: silentLogger, clock: () => clock.now });
  // DigitalOcean's list prices for the size, as /v2/sizes gives them.
  store.billing.savePrices(new Map([['s-1vcpu-1gb', { hourly: 0.00893, monthly: 6 }]]), clock.now);
  const play = (10 / 3) * HOUR;
  const session = START_OVERHEAD + play + server.idle.emptyAfter + STOP_OVERHEAD;
  const snapshots: string[] = ['ood-base'];
  store.billing.syncSnapshots('survival', [{ name: 'ood-base', sizeGb: 2, createdAt: clock.now - 30 * 24 * HOUR }], clock.now);
  // Three sessions a week (Mon, Wed, Sat evenings), 30 days.
  let count = 0;
  for (let day = 0; day < 30; day++) {
    if (![0, 2, 5].includes(day % 7)) continue;
    const start = Date.UTC(2026, 10, 1 + day, 18);
    const moved = (from: string, to: string, at: number) => meter.events.moved?.({ server: 'survival', from: from as never, to: to as never, reason: 'bench', at, address: null });
    moved('archived', 'provisioning', start);
    // The loop sees the droplet as soon as it is created: its session starts there.
    meter.events.host?.({ server: 'survival', present: true, at: start });
    moved('provisioning', 'booting', start + START_OVERHEAD / 2);
    moved('booting', 'running', start + START_OVERHEAD);
    meter.events.presence?.({ server: 'survival', online: ['alex', 'sam'], at: start + START_OVERHEAD });
    meter.events.presence?.({ server: 'survival', online: [], at: start + START_OVERHEAD + play });
    moved('running', 'stopping', start + START_OVERHEAD + play + server.idle.emptyAfter);
    const end = start + session;
    moved('destroying', 'archived', end);
    // The stop made a snapshot and pruned to keepSnapshots.
    snapshots.push(`ood-${Math.floor(end / 1000)}`);
    snapshots.splice(0, Math.max(0, snapshots.length - keepSnapshots));
    store.billing.syncSnapshots('survival', snapshots.map((name) => ({ name, sizeGb: 2, createdAt: name === 'ood-base' ? Date.UTC(2026, 9, 1) : Number(name.slice(4)) * 1000 })), end);
    count++;
  }
  const month = meter.month(Date.UTC(2026, 11, 1) - 1);
  return { total: month.totalUsd, droplets: month.dropletsUsd, snapshots: month.snapshotsUsd, alwaysOn: month.alwaysOnUsd, sessions: count, hours: month.hours };
}

export function costBench(row: Row): void {
  const kept = headline(2);
  const one = headline(1);
  row(
    'headline month: 1 GB droplet, 10 h/week in 3 sessions, default timeouts, 2 GB snapshot (keepSnapshots 2, the default)',
    `${usd(kept.total)} (droplets ${usd(kept.droplets)} for ${kept.hours.toFixed(1)} h in ${kept.sessions} sessions, snapshots ${usd(kept.snapshots)})`,
    `always on ${usd(kept.alwaysOn)}`,
    '≤ $0.60',
    kept.total <= 0.6,
  );
  row('the same with keepSnapshots 1 (no older snapshot kept as a fallback)', `${usd(one.total)} (snapshots ${usd(one.snapshots)})`, `always on ${usd(one.alwaysOn)}`, '≤ $0.60', one.total <= 0.6);
}
