import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HoldOutcome } from '../minecraft/lobby/types.js';
import type { ServerView } from '../reconcile/loop.js';
import type { Observation, Phase } from '../reconcile/types.js';
import type { PlayerAddress } from '../servers/player-address.js';
import { holdLimitText, WaitingRoom } from './waiting-room.js';

const START = 1_800_000_000_000;

/** A server's view as the loop would show it: only what the room reads matters. */
function viewOf(phase: Phase, desired: 'up' | 'down', phaseSince: number, game: Observation['game'] | null = null): ServerView {
  return {
    state: { id: 'survival', desired, desiredAt: START, desiredBy: 'minecraft:Alex_1', requests: 1, phase, phaseSince, address: null, lastError: null, readyAt: null, emptySince: null, keepAliveUntil: null, progress: {} },
    observation: game ? { host: 'present', power: 'on', game, players: null } : null,
    stopsAt: null,
  } as ServerView;
}

describe('the waiting room', () => {
  let now: number;
  let view: ServerView;
  let target: PlayerAddress | null;
  let room: WaitingRoom;
  const logged: string[] = [];

  beforeEach(() => {
    vi.useFakeTimers({ now: START });
    now = START;
    view = viewOf('archived', 'up', START);
    target = { host: '127.0.0.1', port: 25565 };
    room = new WaitingRoom({
      id: 'survival',
      holdForMs: 3 * 60_000,
      view: () => view,
      target: () => target,
      estimates: { of: () => ({ start: 70_000, stop: undefined }) },
      clock: () => now,
      log: { info: (_obj, msg) => logged.push(msg) },
      maxHolds: 3,
    });
  });
  afterEach(() => {
    room.close('test over');
    vi.useRealTimers();
  });

  /** The outcome if it has settled by now, else 'waiting'. */
  const settled = async (outcome: Promise<HoldOutcome>) => Promise.race([outcome, Promise.resolve('waiting' as const)]);

  it('says how long the start takes, counting down as the phase goes on', () => {
    const held = room.hold('Alex_1')!;
    expect(held.text()).toBe('Starting survival — ready in about 70 s');
    view = viewOf('booting', 'up', START);
    now = START + 30_000;
    expect(held.text()).toBe('Starting survival — ready in about 40 s');
  });

  it('holds through the start and sends everyone held to the players\' address once the game answers', async () => {
    const a = room.hold('Alex_1')!;
    const b = room.hold('Bea_2')!;
    for (const phase of ['provisioning', 'booting'] as const) {
      view = viewOf(phase, 'up', now);
      room.sync();
    }
    // Running, but the game does not answer a status ping yet: a client sent there would be refused.
    view = viewOf('running', 'up', now, 'silent');
    room.sync();
    expect(await settled(a.outcome)).toBe('waiting');
    expect(room.size).toBe(2);

    view = viewOf('running', 'up', now, 'answering');
    room.sync();
    expect(await a.outcome).toEqual({ transfer: { host: '127.0.0.1', port: 25565 } });
    expect(await b.outcome).toEqual({ transfer: { host: '127.0.0.1', port: 25565 } });
    expect(room.size).toBe(0);
    expect(logged).toContain('Sent held joins to the server');
  });

  it('waits while the address is unknown (a droplet not yet listed), then transfers', async () => {
    const held = room.hold('Alex_1')!;
    target = null;
    view = viewOf('running', 'up', now, 'answering');
    room.sync();
    expect(await settled(held.outcome)).toBe('waiting');
    target = { host: '203.0.113.7', port: 25565 };
    room.sync();
    expect(await held.outcome).toEqual({ transfer: { host: '203.0.113.7', port: 25565 } });
  });

  it('lets a hold go with the reason when the start fails', async () => {
    const held = room.hold('Alex_1')!;
    view = viewOf('failed', 'up', now);
    room.sync();
    expect(await held.outcome).toEqual({ kick: "survival could not start and needs attention; ask its admin (see OoD's page)" });
  });

  it('lets a hold go when the server is wanted down before it is ready', async () => {
    const held = room.hold('Alex_1')!;
    view = viewOf('booting', 'down', now);
    room.sync();
    expect(await held.outcome).toEqual({ kick: 'survival was stopped before it was ready; join again to wake it' });
  });

  it('lets a hold go after holdFor, and only that one', async () => {
    const first = room.hold('Alex_1')!;
    await vi.advanceTimersByTimeAsync(60_000);
    const second = room.hold('Bea_2')!;
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(await first.outcome).toEqual({ kick: 'survival did not start within 3 min; join again' });
    expect(await settled(second.outcome)).toBe('waiting');
    expect(room.size).toBe(1);
  });

  it('settles once: a later change or the timer does not move a settled hold', async () => {
    const held = room.hold('Alex_1')!;
    view = viewOf('failed', 'up', now);
    room.sync();
    view = viewOf('running', 'up', now, 'answering');
    room.sync();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(await held.outcome).toMatchObject({ kick: expect.stringContaining('could not start') });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('forgets an abandoned hold and clears its timer', async () => {
    const held = room.hold('Alex_1')!;
    expect(vi.getTimerCount()).toBe(1);
    held.abandon();
    expect(room.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    view = viewOf('running', 'up', now, 'answering');
    room.sync();
    expect(await held.outcome).not.toHaveProperty('transfer');
  });

  it('settles at once when the server already answers', async () => {
    view = viewOf('running', 'up', now, 'answering');
    const held = room.hold('Alex_1')!;
    expect(await held.outcome).toEqual({ transfer: { host: '127.0.0.1', port: 25565 } });
    expect(room.size).toBe(0);
  });

  it('holds at most maxHolds joins; one more is not held', () => {
    expect([room.hold('A_1'), room.hold('B_2'), room.hold('C_3')].every(Boolean)).toBe(true);
    expect(room.hold('D_4')).toBeUndefined();
    room.close('OoD is stopping');
    expect(room.hold('D_4')).toBeDefined();
  });

  it('writes the limit in seconds or minutes', () => {
    expect(holdLimitText(45_000)).toBe('45 s');
    expect(holdLimitText(180_000)).toBe('3 min');
  });
});
