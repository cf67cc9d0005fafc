import { describe, expect, it } from 'vitest';
import { ownSnapshots, snapshotName, snapshotsToPrune } from './snapshot-names.js';

const snap = (id: string, name: string) => ({ id, name, sizeGigabytes: 2 });

describe('snapshot names', () => {
  const all = [
    snap('1', 'ood-1764000000'),
    snap('2', 'ood-survival-1764000500'),
    snap('3', 'ood-1764000900'),
    snap('4', 'ood-1764000900-copy'),
    snap('5', 'my-own-backup'),
    snap('6', 'ood-creative-1764001000'),
  ];

  it('are <prefix>-<unix seconds>', () => {
    expect(snapshotName('ood', 1_764_000_000)).toBe('ood-1764000000');
  });

  it('belong to one server only, newest first', () => {
    expect(ownSnapshots(all, 'ood').map((s) => s.id)).toEqual(['3', '1']);
    expect(ownSnapshots(all, 'ood-survival').map((s) => s.id)).toEqual(['2']);
    expect(ownSnapshots(all, 'ood-creative').map((s) => s.ts)).toEqual([1_764_001_000]);
  });

  it('prune keeps the newest N and never a protected one', () => {
    const own = ownSnapshots([snap('1', 'ood-1700000001'), snap('2', 'ood-1700000002'), snap('3', 'ood-1700000003'), snap('4', 'ood-1700000004')], 'ood');
    expect(snapshotsToPrune(own, 2, new Set()).map((s) => s.id)).toEqual(['2', '1']);
    expect(snapshotsToPrune(own, 2, new Set(['1'])).map((s) => s.id)).toEqual(['2']);
    expect(snapshotsToPrune(own, 5, new Set())).toEqual([]);
  });
});
