import { describe, expect, it } from 'vitest';
import type { StackUpdate } from '../driver.js';
import { StackHistoryCache } from '../stack-history.js';
import type { ServerStackLike } from './droplet-stop.js';
import { changesHistory } from './stack-changes.js';

describe('changesHistory', () => {
  it('makes the history read again after each up and destroy, and not after reads', async () => {
    const updates: StackUpdate[] = [];
    let reads = 0;
    const add = (kind: string) => updates.unshift({ version: updates.length + 1, kind, result: 'succeeded', startTime: '', endTime: '', message: kind, resourceChanges: {} });
    const fake: ServerStackLike = {
      setConfig: async () => {},
      up: async () => (add('update'), { outputs: {} }),
      destroy: async () => void add('destroy'),
      refresh: async () => void add('refresh'),
      outputs: async () => ({}),
      history: async () => (reads++, [...updates]),
      dropletId: async () => null,
      pendingCreates: async () => [],
      settlePendingCreates: async () => {},
    };
    const cache = new StackHistoryCache(() => stack.history());
    const stack = changesHistory(fake, cache);
    expect(await cache.get()).toEqual([]);
    await stack.setConfig({ 'ood:image': { value: '1' } });
    await stack.outputs();
    await stack.dropletId();
    expect(await cache.get()).toEqual([]);
    expect(reads).toBe(1);
    await stack.up('ood: start by admin');
    expect((await cache.get()).map((u) => u.kind)).toEqual(['update']);
    await stack.destroy('ood: idle');
    expect((await cache.get()).map((u) => u.kind)).toEqual(['destroy', 'update']);
    expect(reads).toBe(3);
  });
});
