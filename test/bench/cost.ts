/**
 * The headline scenario, costed by OoD's own meter (the same BillingRepo and CostMeter the controller
 * uses, on an in-memory SQLite): the default droplet size, 10 hours of play a week in 3 sessions, the
 * default timeouts, a 2 GB world snapshot, over one 30-day month, against the same droplet always on.
 * README's headline quotes it, and test/readme-cost.test.ts keeps the two equal.
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

/** DigitalOcean's list prices, as /v2/sizes gives them, for the sizes the headline may be asked about. */
const PRICES = new Map([
  ['s-1vcpu-1gb', { hourly: 0.00893, monthly: 6 }],
  ['s-1vcpu-2gb', { hourly: 0.01786, monthly: 12 }],
]);

/**
 * The headline month at the schema's defaults, or with the size, keepSnapshots or backups given (unset:
 * backups on, as on every DigitalOcean server by default, and so keepSnapshots 1). The copies backups
 * make live on this machine's disk and cost DigitalOcean nothing.
 */
export function headline(o: { keepSnapshots?: number; size?: string; backups?: boolean } = {}): { size: string; keepSnapshots: number; total: number; droplets: number; snapshots: number; alwaysOn: number; sessions: number; hours: number } {
  const digitalocean = { ...(o.keepSnapshots === undefined ? {} : { keepSnapshots: o.keepSnapshots }), ...(o.size === undefined ? {} : { size: o.size }) };
  const backups = o.backups === undefined ? {} : { enabled: o.backups };
  const config = parseConfig({ servers: [{ id: 'survival', driver: 'digitalocean', digitalocean, backups }] }, '/tmp');
  const server = config.servers[0]!;
  if (server.driver !== 'digitalocean') throw new Error('the headline server is a DigitalOcean one');
  const keep = server.digitalocean.keepSnapshots;
  const size = server.digitalocean.size;
  const price = PRICES.get(size);
  if (!price) throw new Error(`test/bench/cost.ts has no price for the default size ${size}: add it to PRICES`);
  const store = Store.open(':memory:');
  const clock = { now: Date.UTC(2026, 10, 1) };
  const meter = new CostMeter({ store, config, drivers: new Map(), log: silentLogger, clock: () => clock.now });
  // DigitalOcean's list prices for the size, as /v2/sizes gives them.
  store.billing.savePrices(new Map([[size, price]]), clock.now);
  const play = (10 / 3) * HOUR;
  // The stop's copy runs before the droplet is shut down, so it lengthens the droplet's life; it never
  // passes deadlines.stopping (counted from the stop's start), which is counted whole here: an upper bound.
  const stopCopy = server.backups.enabled ? server.deadlines.stopping : 0;
  const session = START_OVERHEAD + play + server.idle.emptyAfter + STOP_OVERHEAD + stopCopy;
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
    snapshots.splice(0, Math.max(0, snapshots.length - keep));
    store.billing.syncSnapshots('survival', snapshots.map((name) => ({ name, sizeGb: 2, createdAt: name === 'ood-base' ? Date.UTC(2026, 9, 1) : Number(name.slice(4)) * 1000 })), end);
    count++;
  }
  const month = meter.month(Date.UTC(2026, 11, 1) - 1);
  return { size, keepSnapshots: keep, total: month.totalUsd, droplets: month.dropletsUsd, snapshots: month.snapshotsUsd, alwaysOn: month.alwaysOnUsd, sessions: count, hours: month.hours };
}

/** Issue 19 item 4's target for the headline month with copies on (one snapshot kept). */
export const HEADLINE_TARGET_USD = 0.6;

export function costBench(row: Row): void {
  const now = headline();
  // As it was before copies: no backups, so keepSnapshots 2 and no stop's copy.
  const before = headline({ backups: false });
  row(
    `headline month: ${now.size} (the default size), 10 h/week in 3 sessions, default timeouts, 2 GB snapshot, backups on (keepSnapshots ${now.keepSnapshots}, the default)`,
    `${usd(now.total)} (droplets ${usd(now.droplets)} for ${now.hours.toFixed(1)} h in ${now.sessions} sessions, snapshots ${usd(now.snapshots)})`,
    `before copies (keepSnapshots ${before.keepSnapshots}): ${usd(before.total)} (snapshots ${usd(before.snapshots)}); always on ${usd(now.alwaysOn)}`,
    `≤ ${usd(HEADLINE_TARGET_USD)} (issue 19) and ≤ 10 % of always on`,
    now.total <= HEADLINE_TARGET_USD && now.total <= now.alwaysOn * 0.1,
  );
  // What the month is made of: the droplet's hours at the default size's price, not the snapshot.
  const small = headline({ size: 's-1vcpu-1gb' });
  row(
    `the same on ${small.size} (half the hourly price, if the game fits in 1 GB)`,
    `${usd(small.total)} (droplets ${usd(small.droplets)}, snapshots ${usd(small.snapshots)})`,
    `${now.size}: droplets ${usd(now.droplets)} are ${Math.round((now.droplets / now.total) * 100)} % of ${usd(now.total)}`,
    `≤ ${usd(HEADLINE_TARGET_USD)}`,
    small.total <= HEADLINE_TARGET_USD,
  );
}
