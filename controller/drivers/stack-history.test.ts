import { describe, expect, it } from 'vitest';
import type { StackUpdate } from './driver.js';
import { StackHistoryCache, within } from './stack-history.js';

const update = (version: number): StackUpdate => ({ version, kind: 'update', result: 'succeeded', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-01T00:01:00Z', message: `ood: start ${version}`, resourceChanges: {} });

/** A slow reader that counts its reads and answers with the stack as it is when the read ends. */
function slowReader(ms: number) {
  const r = { reads: 0, inFlight: 0, maxInFlight: 0, versions: 1, fail: false };
  const read = async () => {
    r.reads++;
    r.maxInFlight = Math.max(r.maxInFlight, ++r.inFlight);
    await new Promise((done) => setTimeout(done, ms));
    r.inFlight--;
    if (r.fail) throw new Error('pulumi exited 255');
    return Array.from({ length: r.versions }, (_, i) => update(r.versions - i));
  };
  return Object.assign(r, { read });
}

describe('StackHistoryCache', () => {
  it('reads once for 8 parallel views, and not again until the stack changes', async () => {
    const reader = slowReader(50);
    const cache = new StackHistoryCache(reader.read);
    const answers = await Promise.all(Array.from({ length: 8 }, () => cache.get()));
    expect(reader.reads).toBe(1);
    expect(answers.every((a) => a.length === 1)).toBe(true);
    await Promise.all(Array.from({ length: 8 }, () => cache.get()));
    expect(reader.reads).toBe(1);
    // An up through the driver: the next view reads the stack again and sees the new update.
    reader.versions = 2;
    cache.invalidate();
    expect((await cache.get()).map((u) => u.version)).toEqual([2, 1]);
    expect(reader.reads).toBe(2);
  });

  it('does not keep a read that began before an operation, and keeps one read in flight', async () => {
    const reader = slowReader(80);
    const cache = new StackHistoryCache(reader.read);
    const early = cache.get();
    await new Promise((done) => setTimeout(done, 20));
    reader.versions = 3;
    cache.invalidate();
    const late = await Promise.all([cache.get(), cache.get(), cache.get()]);
    await early;
    expect(late.every((a) => a.length === 3)).toBe(true);
    expect(reader.reads).toBe(2);
    expect(reader.maxInFlight).toBe(1);
  });

  it('answers "loading" within the bound while a slow read goes on, and the finished read for the next view', async () => {
    const reader = slowReader(400);
    const cache = new StackHistoryCache(reader.read);
    const started = Date.now();
    expect(await within(cache.get(), 100)).toEqual({ loading: true });
    expect(Date.now() - started).toBeLessThan(300);
    await new Promise((done) => setTimeout(done, 400));
    expect(await within(cache.get(), 100)).toEqual({ value: [update(1)] });
    expect(reader.reads).toBe(1);
  });

  it('tries a failed read again only after a while', async () => {
    let now = 0;
    const reader = slowReader(1);
    reader.fail = true;
    const cache = new StackHistoryCache(reader.read, () => now, 30_000);
    await expect(cache.get()).rejects.toThrow('pulumi exited 255');
    await expect(cache.get()).rejects.toThrow('pulumi exited 255');
    expect(reader.reads).toBe(1);
    now = 30_000;
    reader.fail = false;
    expect(await cache.get()).toHaveLength(1);
    expect(reader.reads).toBe(2);
  });
});
