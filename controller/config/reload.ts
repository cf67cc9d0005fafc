import type { Config } from './schema.js';

/** One key whose value differs between the running config and the file, named as a person finds it. */
export interface ConfigChange {
  /** `listen.port`, `servers[survival].idle.emptyAfter`, `servers[skyblock] (added)`. */
  name: string;
  /** Keys from the top; a server is its id after `servers`. */
  path: readonly string[];
  to: unknown;
}

export interface ReloadPlan {
  /** Changes the running controller takes as they are (the loop reads them at its next tick). */
  live: ConfigChange[];
  /** Changes that take a restart: what was built from them (drivers, listeners, stacks) stays as it is. */
  restart: ConfigChange[];
}

/**
 * What may change while OoD runs, because whoever uses it reads it from the running config each time:
 * runners read idle, deadlines and the reconcile timings at each tick, lobbies their wakers, the cost
 * meter the budget, the notifier its events. Anything else (a driver, a port, the listen address,
 * dataDir, a server added or removed, lobby.mode…) was built into objects at start, so it waits for one.
 * `*` stands for any server; a pattern covers the keys under it.
 */
const LIVE: readonly string[] = [
  'reconcile.fastTick',
  'reconcile.slowTick',
  'reconcile.playerProbe',
  'reconcile.backoff',
  'reconcile.maxAttempts',
  'orphans.remove',
  'web.admins',
  'notifications.events',
  'budget.monthlyUsd',
  'budget.warnAt',
  'servers.*.idle',
  'servers.*.deadlines.provisioning',
  'servers.*.deadlines.booting',
  // Not `stopping`: the DigitalOcean driver's RCON session takes it once, when it is made.
  'servers.*.deadlines.poweringOff',
  'servers.*.deadlines.snapshotting',
  'servers.*.deadlines.destroying',
  'servers.*.keepArchives',
  'servers.*.lobby.wakers',
  'servers.*.lobby.wakeCooldown',
  'servers.*.lobby.wakeFrom',
  'servers.*.lobby.versionName',
];

const isLive = (path: readonly string[]) =>
  LIVE.some((pattern) => {
    const parts = pattern.split('.');
    return parts.length <= path.length && parts.every((part, i) => part === '*' || part === path[i]);
  });

// A whole server added or removed (`servers.<id>`) is never live: it would need its own runner and driver.
const isLiveChange = (change: ConfigChange) => !(change.path[0] === 'servers' && change.path.length <= 2) && isLive(change.path);

const nameOf = (path: readonly string[]) =>
  path[0] === 'servers' && path.length > 1 ? `servers[${path[1]}]${path.slice(2).map((k) => `.${k}`).join('')}` : path.join('.');

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** Compares the running config with a newly parsed one, key by key; lists (wakers, warnings) count as one value. */
export function planReload(running: Config, next: Config): ReloadPlan {
  const changes: ConfigChange[] = [];
  const walk = (a: unknown, b: unknown, path: string[]) => {
    if (isRecord(a) && isRecord(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], [...path, key]);
    } else if (!same(a, b)) {
      changes.push({ name: nameOf(path), path, to: b });
    }
  };
  const { servers: runningServers, ...runningRest } = running;
  const { servers: nextServers, ...nextRest } = next;
  walk(runningRest, nextRest, []);
  const before = new Map(runningServers.map((s) => [s.id, s]));
  const after = new Map(nextServers.map((s) => [s.id, s]));
  for (const [id, server] of before) {
    const now = after.get(id);
    if (now) walk(server, now, ['servers', id]);
    else changes.push({ name: `servers[${id}] (removed)`, path: ['servers', id], to: undefined });
  }
  for (const [id, server] of after) if (!before.has(id)) changes.push({ name: `servers[${id}] (added)`, path: ['servers', id], to: server });
  const kept = nextServers.map((s) => s.id).filter((id) => before.has(id));
  if (!same(kept, runningServers.map((s) => s.id).filter((id) => after.has(id)))) changes.push({ name: 'servers (their order)', path: ['servers'], to: kept });
  return { live: changes.filter(isLiveChange), restart: changes.filter((c) => !isLiveChange(c)) };
}

/**
 * Writes the plan's live changes into the running config's own objects, in place: runners, lobbies,
 * the cost meter and the notifier hold those objects, so there is no second way a setting reaches them.
 */
export function applyLive(running: Config, plan: Pick<ReloadPlan, 'live'>): void {
  for (const change of plan.live) {
    let parent: Record<string, unknown> = running as unknown as Record<string, unknown>;
    let rest = change.path;
    if (rest[0] === 'servers') {
      parent = running.servers.find((s) => s.id === rest[1]) as unknown as Record<string, unknown>;
      rest = rest.slice(2);
    }
    for (const key of rest.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
    const leaf = rest.at(-1)!;
    if (change.to === undefined) delete parent[leaf];
    else parent[leaf] = change.to;
  }
}
