import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { Estimates } from '../estimates.js';
import { silentLogger } from '../log.js';
import type { HoldOutcome, LoginAnswer } from '../minecraft/lobby/types.js';
import type { ServerView } from '../reconcile/loop.js';
import type { Observation, Phase } from '../reconcile/types.js';
import { playerAddress } from '../servers/player-address.js';
import { Store } from '../store/store.js';
import { LobbyService } from './lobby-service.js';

const NOW = 1_800_000_000_000;

/**
 * A careless admin's waiting room: `lobby: { mode: wake }` on the local driver, local.publicHost left
 * at its default (localhost). Before the waiting room a player from elsewhere was kicked with the ETA
 * and joined again at the address they had typed, where the game then answers. A hold that ends in a
 * Transfer to "localhost" sends that player to their own machine after the whole start: the join that
 * used to work fails. A loopback players' address may only be the Transfer of a loopback client.
 */
describe('the waiting room with a players\' address only this machine can reach', () => {
  let store: Store;
  let service: LobbyService;
  let view: ServerView;

  const viewOf = (phase: Phase, desired: 'up' | 'down', game: Observation['game'] | null = null): ServerView =>
    ({ state: { ...store.servers.get('world')!, phase, desired }, observation: game ? { host: 'present', power: 'on', game, players: null } : null, stopsAt: null }) as ServerView;

  beforeEach(() => {
    store = Store.open(':memory:');
    store.servers.ensure(['world'], NOW);
    const server = parseConfig({ servers: [{ id: 'world', lobby: { mode: 'wake', wakers: ['Alex_1', 'Steve'] } }] }, '/base').servers[0]!;
    view = viewOf('archived', 'down');
    service = new LobbyService({
      server,
      view: () => view,
      gameEndpoint: () => null,
      playerAddress: () => playerAddress(server), // the one decision, from the defaults: localhost
      wake: () => (view = viewOf('provisioning', 'up')),
      people: store.people,
      audit: store.audit,
      webSessionMs: 86_400_000,
      estimates: new Estimates(store.journal),
      log: silentLogger,
      clock: () => NOW,
      ownPort: false,
    });
  });
  afterEach(async () => {
    await service.close();
    store.close();
  });

  /** What a 1.21.4 join from `address` ends with once the game answers: its Transfer or kick, or the text it was answered with at once. */
  async function endOf(name: string, address: string): Promise<HoldOutcome | { text: string }> {
    const answer: LoginAnswer = await service.handlers.login({ name, address, protocol: 769, holdable: true });
    if (typeof answer === 'string') return { text: answer };
    view = viewOf('running', 'up', 'answering');
    service.sync();
    return answer.hold.outcome;
  }

  it('a player from another machine is never transferred to localhost: answered with the ETA, as before', async () => {
    expect(playerAddress(parseConfig({ servers: [{ id: 'world' }] }, '/base').servers[0]!)).toEqual({ host: 'localhost', port: 25565 });
    const end = await endOf('Alex_1', '203.0.113.5');
    expect(end).not.toHaveProperty('transfer');
    expect(end).toEqual({ text: expect.stringMatching(/^Starting world, ready in .* — join again then$/) as unknown });
  });

  it('a player on this machine is still held and transferred there', async () => {
    expect(await endOf('Steve', '127.0.0.1')).toEqual({ transfer: { host: 'localhost', port: 25565 } });
  });
});

describe('isLoopbackHost', () => {
  it('knows the loopback spellings and nothing else', async () => {
    const { isLoopbackHost } = await import('../net/loopback-host.js');
    for (const host of ['localhost', 'LOCALHOST.', 'mc.localhost', '127.0.0.1', '127.9.8.7', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['mc.example.com', '203.0.113.5', '10.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', 'localhost.example.com', '1270.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });
});
