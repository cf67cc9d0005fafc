import { describe, expect, it } from 'vitest';
import { dueWarning, stopsAt, trackPresence } from './idle.js';

const idle = { emptyAfter: 900, neverJoined: 600, warnings: [60, 10], keepAlive: 1800 };

describe('trackPresence', () => {
  it('starts the empty clock at the first empty observation and keeps it', () => {
    expect(trackPresence({ emptySince: null, progress: {} }, { players: { online: 0, max: 5, names: [] } }, 100)).toEqual({ emptySince: 100, joined: false });
    expect(trackPresence({ emptySince: 100, progress: {} }, { players: { online: 0, max: 5, names: [] } }, 200)).toEqual({ emptySince: 100, joined: false });
  });
  it('clears it when someone is online, and remembers that someone joined', () => {
    expect(trackPresence({ emptySince: 100, progress: {} }, { players: { online: 2, max: 5, names: ['a', 'b'] } }, 200)).toEqual({ emptySince: null, joined: true });
  });
  it('treats a failed probe as players present', () => {
    expect(trackPresence({ emptySince: 100, progress: { joined: true } }, { players: null }, 200)).toEqual({ emptySince: null, joined: true });
  });
});

describe('stopsAt', () => {
  it('uses neverJoined until someone joined, emptyAfter after', () => {
    expect(stopsAt({ readyAt: 1000, emptySince: 1000, keepAliveUntil: null, progress: {} }, idle)).toBe(1600);
    expect(stopsAt({ readyAt: 1000, emptySince: 5000, keepAliveUntil: null, progress: { joined: true } }, idle)).toBe(5900);
  });
  it('is pushed later by a keep-alive, never earlier', () => {
    expect(stopsAt({ readyAt: 1000, emptySince: 1000, keepAliveUntil: 9000, progress: {} }, idle)).toBe(9000);
    expect(stopsAt({ readyAt: 1000, emptySince: 1000, keepAliveUntil: 10, progress: {} }, idle)).toBe(1600);
  });
  it('is null while people may be online', () => {
    expect(stopsAt({ readyAt: 1000, emptySince: null, keepAliveUntil: null, progress: {} }, idle)).toBeNull();
  });
});

describe('dueWarning', () => {
  it('sends the nearest due warning once', () => {
    expect(dueWarning({ progress: {} }, 1000, idle, 930)).toBeUndefined();
    expect(dueWarning({ progress: {} }, 1000, idle, 945)).toBe(60);
    expect(dueWarning({ progress: { warned: [60], warnedFor: 1000 } }, 1000, idle, 950)).toBeUndefined();
    expect(dueWarning({ progress: { warned: [60], warnedFor: 1000 } }, 1000, idle, 991)).toBe(10);
  });
  it('skips straight to the nearest when the tick was late, and forgets warnings for an older stop time', () => {
    expect(dueWarning({ progress: {} }, 1000, idle, 995)).toBe(10);
    expect(dueWarning({ progress: { warned: [60, 10], warnedFor: 500 } }, 1000, idle, 945)).toBe(60);
  });
});
