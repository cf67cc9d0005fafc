import { describe, expect, it } from 'vitest';
import { StopCycleClock } from './stop-cycle.js';
import type { Observation } from './types.js';

const host: Observation = { host: 'present', machine: 'on', power: 'off', game: 'silent', players: null };
const gone: Observation = { host: 'absent', power: 'off', game: 'silent', players: null };

describe('StopCycleClock', () => {
  it('counts one stop across its phases, and across an archive that still sees the host (a lap)', () => {
    const clock = new StopCycleClock();
    expect(clock.note('running', host, 0)).toBe(0);
    expect(clock.note('stopping', host, 10)).toBe(0);
    expect(clock.note('powering_off', host, 20)).toBe(10);
    expect(clock.note('destroying', host, 40)).toBe(30);
    // The destroy was answered, yet the host is listed again: the same stop goes on.
    expect(clock.note('archived', host, 50)).toBe(40);
    expect(clock.note('powering_off', host, 60)).toBe(50);
  });

  it('goes on through an archive whose host a listing left out for a moment, then showed again', () => {
    const clock = new StopCycleClock(1_000);
    clock.note('stopping', host, 0);
    expect(clock.note('archived', gone, 100)).toBe(100);
    expect(clock.note('archived', gone, 900)).toBe(900);
    // A listing that flips: the same stop, not a new one (else laps would never add up to its limit).
    expect(clock.note('archived', host, 1_000)).toBe(1_000);
    expect(clock.note('powering_off', host, 1_500)).toBe(1_500);
  });

  it('ends when the server has stayed archived with no host for the settle time, or leaves the stop', () => {
    const clock = new StopCycleClock(50);
    clock.note('stopping', host, 0);
    expect(clock.note('archived', gone, 100)).toBe(100);
    expect(clock.note('archived', gone, 150)).toBe(0);
    expect(clock.note('powering_off', host, 200)).toBe(0);
    expect(clock.note('booting', host, 300)).toBe(0);
    expect(clock.note('stopping', host, 400)).toBe(0);
    expect(clock.note('failed', host, 450)).toBe(0);
    expect(clock.note('stopping', host, 500)).toBe(0);
    expect(clock.note('snapshotting', host, 700)).toBe(200);
  });
});
