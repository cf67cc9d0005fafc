import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Request } from '../controller.js';
import { Estimates } from '../estimates.js';
import { silentLogger } from '../log.js';
import type { HeldLogin, LoginAnswer, LoginAttempt } from '../minecraft/lobby/types.js';
import type { ServerView } from '../reconcile/loop.js';
import type { Observation, Phase } from '../reconcile/types.js';
import { Store } from '../store/store.js';
import { LobbyService } from './lobby-service.js';

const NOW = 1_800_000_000_000;

/** Which joins the lobby holds (the waiting room) and which it answers with text, as before. */
describe("the lobby's hold decision", () => {
  let store: Store;
  let service: LobbyService;
  let view: ServerView;
  const woken: Request[] = [];

  const viewOf = (phase: Phase, desired: 'up' | 'down', game: Observation['game'] | null = null): ServerView =>
    ({
      state: { ...store.servers.get('world')!, phase, desired },
      observation: game ? { host: 'present', power: 'on', game, players: null } : null,
      stopsAt: null,
    }) as ServerView;

  beforeEach(() => {
    store = Store.open(':memory:');
    store.servers.ensure(['world'], NOW);
    const config = parseConfig({ servers: [{ id: 'world', local: { publicHost: 'mc.example.com' }, lobby: { mode: 'wake', wakers: ['Alex_1'] } }] }, '/base');
    view = viewOf('archived', 'down');
    woken.length = 0;
    service = new LobbyService({
      server: config.servers[0]!,
      view: () => view,
      gameEndpoint: () => null,
      playerAddress: () => ({ host: 'mc.example.com', port: 25565 }),
      wake: (who) => {
        woken.push(who);
        view = viewOf('archived', 'up');
        return view;
      },
      people: store.people,
      audit: store.audit,
      webSessionMs: 86_400_000,
      estimates: new Estimates(store.journal),
      log: silentLogger,
      clock: () => NOW,
      // Never listens: these tests call its handlers.
      ownPort: false,
    });
  });
  afterEach(async () => {
    await service.close();
    store.close();
  });

  const join = (name: string, holdable: boolean, address = '203.0.113.5'): Promise<LoginAnswer> =>
    Promise.resolve(service.handlers.login({ name, address, protocol: holdable ? 769 : 340, holdable } satisfies LoginAttempt));
  const held = (answer: LoginAnswer): HeldLogin => {
    if (typeof answer === 'string') throw new Error(`expected a hold, got the text ${answer}`);
    return answer.hold;
  };

  it('holds a 1.20.5+ join that wakes the server, and moves it to the players\' address once the game answers', async () => {
    const hold = held(await join('Alex_1', true));
    expect(woken).toHaveLength(1);
    expect(hold.text()).toBe('Starting world — ready in a minute or two');
    expect(service.waiting).toBe(1);
    view = viewOf('running', 'up', 'answering');
    service.sync();
    expect(await hold.outcome).toEqual({ transfer: { host: 'mc.example.com', port: 25565 } });
    expect(service.waiting).toBe(0);
  });

  it('moves a 1.20.5+ join at once to a running server whose game answers (the shared lobby in wake mode), whatever its name', async () => {
    view = viewOf('running', 'up', 'answering');
    const hold = held(await join('Stranger', true));
    expect(await hold.outcome).toEqual({ transfer: { host: 'mc.example.com', port: 25565 } });
    expect(woken).toHaveLength(0);
    expect(service.waiting).toBe(0);
    // An older client is told where to connect, as before.
    expect(await join('Stranger', false)).toMatch(/^world is up: connect to /);
  });

  it('tells a client that cannot be held to join again, as before', async () => {
    expect(await join('Alex_1', false)).toBe('Starting world, ready in a minute or two — join again then');
    expect(woken).toHaveLength(1);
    expect(service.waiting).toBe(0);
  });

  it('holds a join during a start under way without waking it again; an old client gets the text', async () => {
    view = viewOf('booting', 'up');
    expect(held(await join('Alex_1', true)).text()).toMatch(/^Starting world — ready in /);
    expect(await join('Alex_1', false, '203.0.113.6')).toBe('world is already starting, ready in a minute or two — join again then');
    expect(woken).toHaveLength(0);
  });

  it('never holds a name that may not wake it, a failed server, or one going to sleep', async () => {
    expect(await join('Stranger', true)).toBe('Stranger may not wake world. Ask its admin to link your Minecraft name to your OoD account');
    view = viewOf('failed', 'up');
    expect(await join('Alex_1', true, '203.0.113.7')).toMatch(/needs attention/);
    view = viewOf('stopping', 'down');
    expect(await join('Alex_1', true, '203.0.113.8')).toBe('world is going to sleep; try again in a minute');
    expect(woken).toHaveLength(0);
    expect(service.waiting).toBe(0);
  });

  it('keeps the rate limits: past wakesPerMinute a join is told to wait, not held', async () => {
    view = viewOf('booting', 'up');
    for (let i = 0; i < 6; i++) held(await join('Alex_1', true));
    expect(await join('Alex_1', true)).toBe('Too many tries; wait a minute before joining world again');
  });

  it('lets every hold go when the lobby closes', async () => {
    const hold = held(await join('Alex_1', true));
    await service.close();
    expect(await hold.outcome).toEqual({ kick: 'OoD is stopping; join world again in a minute' });
  });
});
