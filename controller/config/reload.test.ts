import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { applyLive, planReload } from './reload.js';

const base = {
  listen: { port: 0 },
  budget: { monthlyUsd: 20 },
  servers: [
    { id: 'survival', game: { port: 25600, rconPort: 25601 }, idle: { emptyAfter: '15m' }, lobby: { mode: 'wake', wakers: ['Alex'] } },
    { id: 'creative', game: { port: 25610, rconPort: 25611 } },
  ],
};
const parse = (data: unknown) => parseConfig(data, '/base');
const withServer = (id: string, patch: Record<string, unknown>) => ({ ...base, servers: base.servers.map((s) => (s.id === id ? { ...s, ...patch } : s)) });

describe('a config reload', () => {
  it('applies what can change while running into the same objects the loop reads', () => {
    const running = parse(base);
    const survival = running.servers[0]!;
    const idle = survival.idle;
    const next = parse({
      ...withServer('survival', { idle: { emptyAfter: '5m', neverJoined: '2m' }, deadlines: { booting: '7m' }, lobby: { mode: 'wake', wakers: ['Alex', 'Steve'] } }),
      budget: {},
      notifications: { events: ['failed'] },
    });
    const plan = planReload(running, next);
    expect(plan.restart.map((c) => c.name)).toEqual([]);
    expect(plan.live.map((c) => c.name).sort()).toEqual([
      'budget.monthlyUsd',
      'notifications.events',
      'servers[survival].deadlines.booting',
      'servers[survival].idle.emptyAfter',
      'servers[survival].idle.neverJoined',
      'servers[survival].lobby.wakers',
    ]);
    applyLive(running, plan);
    // The very objects runners, lobbies and the meter hold now say the new values.
    expect(running.servers[0]).toBe(survival);
    expect(survival.idle).toBe(idle);
    expect(idle).toMatchObject({ emptyAfter: 300_000, neverJoined: 120_000 });
    expect(survival.deadlines.booting).toBe(420_000);
    expect(survival.lobby.wakers).toEqual(['Alex', 'Steve']);
    expect(running.budget.monthlyUsd).toBeUndefined();
    expect(running.notifications.events).toEqual(['failed']);
    expect(planReload(running, next)).toEqual({ live: [], restart: [] });
  });

  it('names what needs a restart and leaves it as it runs', () => {
    const running = parse(base);
    const next = parse({
      ...base,
      servers: [...withServer('survival', { game: { port: 25700, rconPort: 25601 }, idle: { emptyAfter: '1m' }, deadlines: { stopping: '5m' } }).servers.slice(0, 1), { id: 'skyblock', game: { port: 25620, rconPort: 25621 } }],
      listen: { port: 9999 },
      dataDir: './elsewhere',
    });
    const plan = planReload(running, next);
    expect(plan.restart.map((c) => c.name).sort()).toEqual(['dataDir', 'listen.port', 'servers[creative] (removed)', 'servers[skyblock] (added)', 'servers[survival].deadlines.stopping', 'servers[survival].game.port']);
    expect(plan.live.map((c) => c.name)).toEqual(['servers[survival].idle.emptyAfter']);
    applyLive(running, plan);
    expect(running.servers.map((s) => s.id)).toEqual(['survival', 'creative']);
    expect(running.servers[0]!.game.port).toBe(25600);
    expect(running.listen.port).toBe(0);
    expect(running.servers[0]!.idle.emptyAfter).toBe(60_000);
  });

  it('an unchanged file changes nothing', () => {
    expect(planReload(parse(base), parse(base))).toEqual({ live: [], restart: [] });
  });
});
