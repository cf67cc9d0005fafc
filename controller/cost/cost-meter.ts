import type { Config } from '../config/schema.js';
import type { Driver } from '../drivers/driver.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { RunnerEvents } from '../reconcile/runner-events.js';
import type { ServerState } from '../reconcile/types.js';
import type { Store } from '../store/store.js';
import { diskUse } from './disk-use.js';
import { monthCost, monthStart, usd, type MonthCost, type Price } from './billing.js';

const DAY = 86_400_000;
/** A session's length when the server has none yet to go by. */
const DEFAULT_SESSION_MS = 3 * 3_600_000;

/**
 * Why a start was refused: the month's cost, what the servers already up will add to it, and what one
 * more session would add, against the cap.
 */
export class BudgetError extends Error {
  readonly status = 409;
  readonly expose = true;
  constructor(
    readonly monthToDate: number,
    readonly nextSession: number,
    readonly cap: number,
    server: string,
    readonly alreadyUp: { servers: readonly string[]; moreUsd: number } = { servers: [], moreUsd: 0 },
  ) {
    const up = alreadyUp.servers;
    const ahead = up.length === 0 ? '' : `; ${listed(up)} ${up.length === 1 ? 'is' : 'are'} already up, counted at about ${usd(alreadyUp.moreUsd)} more`;
    super(`Starting ${server} would go past this month's budget: ${usd(monthToDate)} spent so far, a session costs about ${usd(nextSession)}, and the cap is ${usd(cap)} (budget.monthlyUsd)${ahead}. An admin can start it anyway.`);
    this.name = 'BudgetError';
  }
}

/** "a", "a and b", "a, b and c". */
function listed(names: readonly string[]): string {
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

/**
 * The cost meter: a billing session per host life (opened when the loop first sees the host, closed when
 * it sees it gone or the server is archived, in the loop's transaction), player time while running, the
 * snapshots that exist after each stop, and DigitalOcean's prices, fetched at most daily and kept.
 */
export class CostMeter {
  readonly events: RunnerEvents;
  /** Who is online since when, per server (player time is added when they leave or the server stops). */
  private readonly online = new Map<string, Map<string, number>>();
  private pricesFetching: Promise<void> | undefined;
  /** Why the last fetch of prices failed; null once one succeeds. */
  private pricesError: string | null = null;
  private warnedMonth = -1;
  /** The last month() answer: the overview shows it on every load; kept a second, dropped on every event. */
  private recent: { at: number; cost: MonthCost } | undefined;

  constructor(
    private readonly o: {
      store: Store;
      config: Config;
      drivers: ReadonlyMap<string, Driver>;
      /** DigitalOcean's sizes and prices; undefined when no server runs there. */
      fetchPrices?: () => Promise<Map<string, Price>>;
      log: Logger;
      clock: () => number;
    },
  ) {
    const billing = o.store.billing;
    this.events = {
      moved: (m) => {
        this.recent = undefined;
        const server = this.server(m.server);
        if (m.from === 'running') this.leaveAll(m.server, m.at);
        if (m.to === 'archived') {
          billing.close(m.server, m.at);
          if (server.driver === 'digitalocean') setImmediate(() => void this.syncSnapshots(m.server));
        }
      },
      // A session is a host's life as observed: a create refused with 422 opens none, a droplet left on by a failure stays billed.
      host: (h) => {
        this.recent = undefined;
        const server = this.server(h.server);
        if (h.present) billing.open(h.server, server.driver, server.driver === 'digitalocean' ? server.digitalocean.size : null, h.at);
        else billing.close(h.server, h.at);
      },
      presence: (p) => {
        this.recent = undefined;
        const since = this.online.get(p.server) ?? new Map<string, number>();
        this.online.set(p.server, since);
        const now = new Set(p.online);
        for (const [name, from] of since) {
          if (!now.has(name)) {
            billing.addPlayerSeconds(p.server, (p.at - from) / 1000);
            since.delete(name);
          }
        }
        for (const name of now) if (!since.has(name)) since.set(name, p.at);
      },
    };
  }

  private server(id: string) {
    return this.o.config.servers.find((s) => s.id === id)!;
  }

  private leaveAll(server: string, at: number): void {
    const since = this.online.get(server);
    if (!since) return;
    for (const from of since.values()) this.o.store.billing.addPlayerSeconds(server, (at - from) / 1000);
    since.clear();
  }

  /** Records the snapshots a DigitalOcean server has now (after a stop made one and pruned others). */
  async syncSnapshots(server: string): Promise<void> {
    try {
      const archives = await this.o.drivers.get(server)!.archives();
      this.o.store.billing.syncSnapshots(server, archives.map((a) => ({ name: a.name, sizeGb: a.bytes / 1024 ** 3, createdAt: a.ts * 1000 })), this.o.clock());
      this.recent = undefined;
    } catch (err) {
      this.o.log.warn({ server, err: messageOf(err) }, 'Could not list snapshots for the cost meter; trying at the next stop');
    }
  }

  /** Fetches prices when none are kept or they are a day old; failures keep the old ones. */
  async refreshPrices(): Promise<void> {
    if (!this.o.fetchPrices) return;
    const { fetchedAt } = this.o.store.billing.prices();
    if (fetchedAt !== null && this.o.clock() - fetchedAt < DAY) return;
    this.pricesFetching ??= this.o
      .fetchPrices()
      .then((prices) => {
        this.o.store.billing.savePrices(prices, this.o.clock());
        this.pricesError = null;
        this.recent = undefined;
      })
      .catch((err: unknown) => {
        this.pricesError = messageOf(err);
        this.recent = undefined;
        this.o.log.warn({ err: messageOf(err) }, 'Could not fetch DigitalOcean prices; using the last ones kept');
      })
      .finally(() => (this.pricesFetching = undefined));
    await this.pricesFetching;
  }

  /** This month so far, and where it is heading. */
  month(now = this.o.clock()): MonthCost {
    if (this.recent && now >= this.recent.at && now - this.recent.at < 1_000) return this.recent.cost;
    const cost = this.compute(now);
    this.recent = { at: now, cost };
    return cost;
  }

  private compute(now: number): MonthCost {
    const from = monthStart(now);
    const cloud = this.o.config.servers.filter((s) => s.driver === 'digitalocean');
    const cost = {
      ...monthCost({
        sessions: this.o.store.billing.sessionsSince(from),
        snapshots: this.o.store.billing.snapshotsSince(from),
        prices: this.o.store.billing.prices().prices,
        now,
        alwaysOnSizes: cloud.map((s) => s.digitalocean.size),
      }),
      pricesError: this.pricesError,
      disk: diskUse(this.o.config.dataDir, this.o.config.servers.map((s) => s.id)),
    };
    const cap = this.o.config.budget.monthlyUsd;
    if (cap !== undefined && cost.totalUsd >= cap * this.o.config.budget.warnAt && this.warnedMonth !== from) {
      this.warnedMonth = from;
      this.o.log.warn({ spent: cost.totalUsd, cap }, `This month's cost ${usd(cost.totalUsd)} has passed ${Math.round(this.o.config.budget.warnAt * 100)} % of the budget ${usd(cap)}`);
    }
    return cost;
  }

  /** About what one more session of `server` costs: its median session length at its size's price. */
  nextSession(server: string): number {
    const config = this.server(server);
    if (config.driver !== 'digitalocean') return 0;
    const price = this.o.store.billing.prices().prices.get(config.digitalocean.size);
    if (!price) return 0;
    const lengths = this.o.store.billing
      .sessionsSince(0)
      .filter((s) => s.server === server && s.endedAt !== null)
      .map((s) => s.endedAt! - s.startedAt)
      .sort((a, b) => a - b);
    const typical = lengths.length ? lengths[Math.floor(lengths.length / 2)]! : DEFAULT_SESSION_MS;
    return Math.max((typical / 3_600_000) * price.hourly, 0.01);
  }

  /**
   * Throws BudgetError when starting `server` would go past the month's cap. Every other server already
   * up (wanted up, or not yet archived) counts at one usual session or its cost so far, whichever is
   * larger: servers started together would each see only what was spent, and all pass. `servers` and
   * the costs are read by the caller's transaction, the one that then writes desired=up.
   */
  checkBudget(server: string, servers: readonly ServerState[]): void {
    const cap = this.o.config.budget.monthlyUsd;
    if (cap === undefined || this.server(server).driver !== 'digitalocean') return;
    const cost = this.compute(this.o.clock());
    const soFar = new Map<string, number>();
    for (const s of cost.sessions) if (s.session.endedAt === null && s.usd !== null) soFar.set(s.session.server, (soFar.get(s.session.server) ?? 0) + s.usd);
    const more = (id: string) => Math.max(0, this.nextSession(id) - (soFar.get(id) ?? 0));
    const cloud = new Set(this.o.config.servers.filter((s) => s.driver === 'digitalocean').map((s) => s.id));
    const up = servers.filter((s) => s.id !== server && cloud.has(s.id) && (s.desired === 'up' || s.phase !== 'archived')).map((s) => s.id);
    const ahead = up.reduce((sum, id) => sum + more(id), 0);
    const next = this.nextSession(server);
    if (cost.totalUsd + ahead + more(server) > cap) throw new BudgetError(cost.totalUsd, next, cap, server, { servers: up, moreUsd: ahead });
  }
}
