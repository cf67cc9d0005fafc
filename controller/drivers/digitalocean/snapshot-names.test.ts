import { describe, expect, it } from 'vitest';
import { nextSnapshotSeconds, ownSnapshots, snapshotName, snapshotsToPrune, type SnapshotScope } from './snapshot-names.js';

const DAY = 86_400;
const T0 = 1_764_000_000;
/** A DigitalOcean-shaped entry: `created_at` is DigitalOcean's clock, the name is whoever made it. */
const snap = (id: string, name: string, createdSeconds: number) => ({ id, name, sizeGigabytes: 2, createdAt: createdSeconds * 1000 });
const mine: SnapshotScope = { base: 'ood', installation: '1a2b3c4d', server: 'world' };
const theirs: SnapshotScope = { base: 'ood', installation: '9f8e7d6c', server: 'world' };
const none = new Set<string>();

describe('snapshot names', () => {
  it('are <base>-<installation>-<server>-<unix seconds>', () => {
    expect(snapshotName(mine, T0)).toBe('ood-1a2b3c4d-world-1764000000');
  });

  it('a clock that once ran a day ahead: the newest is the one DigitalOcean made last, whatever its name says', () => {
    const ahead = snap('10', snapshotName(mine, T0 + DAY), T0);
    const later = snap('11', snapshotName(mine, T0 + 3600), T0 + 3600);
    const own = ownSnapshots([ahead, later], mine, none);
    expect(own.map((s) => s.id)).toEqual(['11', '10']);
    // The next stop prunes the one from the clock that ran ahead, never the last session's world.
    expect(snapshotsToPrune(own, 1, new Set()).map((s) => s.id)).toEqual(['10']);
  });

  it('a new name is never older than the newest listed: max(clock, newest + 1 s)', () => {
    const ahead = snap('10', snapshotName(mine, T0 + DAY), T0);
    const own = ownSnapshots([ahead], mine, none);
    expect(nextSnapshotSeconds((T0 + 60) * 1000, own, mine)).toBe(T0 + DAY + 1);
    expect(nextSnapshotSeconds((T0 + 2 * DAY) * 1000, own, mine)).toBe(T0 + 2 * DAY);
    expect(nextSnapshotSeconds(T0 * 1000, [], mine)).toBe(T0);
  });

  it('belong to one installation and one server only; a bare ood-<unix seconds> is nobody’s until adopted', () => {
    const all = [
      snap('1', 'ood-1764000000', T0),
      snap('2', snapshotName(theirs, T0 + 10), T0 + 10),
      snap('3', snapshotName(mine, T0 + 20), T0 + 20),
      snap('4', `${snapshotName(mine, T0 + 30)}-copy`, T0 + 30),
      snap('5', snapshotName({ ...mine, server: 'world-2' }, T0 + 40), T0 + 40),
      snap('6', 'my-own-backup', T0 + 50),
    ];
    expect(ownSnapshots(all, mine, none).map((s) => s.id)).toEqual(['3']);
    expect(ownSnapshots(all, theirs, none).map((s) => s.id)).toEqual(['2']);
    expect(ownSnapshots(all, { ...mine, server: 'world-2' }, none).map((s) => s.id)).toEqual(['5']);
    // Recorded in the store (a stop's, or adopted): own whatever the name.
    expect(ownSnapshots(all, mine, new Set(['1', '6'])).map((s) => s.id)).toEqual(['6', '3', '1']);
  });

  it('prune keeps the newest N and never a protected one', () => {
    const own = ownSnapshots([1, 2, 3, 4].map((n) => snap(String(n), snapshotName(mine, T0 + n), T0 + n)), mine, none);
    expect(snapshotsToPrune(own, 2, new Set()).map((s) => s.id)).toEqual(['2', '1']);
    expect(snapshotsToPrune(own, 2, new Set(['1'])).map((s) => s.id)).toEqual(['2']);
    expect(snapshotsToPrune(own, 5, new Set())).toEqual([]);
  });
});
