import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../store/db.js';
import { OutboxRepo, STOPPED_DURING_DELIVERY } from './outbox.js';

describe('OutboxRepo on a real SQLite file', () => {
  let dir: string;
  let db: Db;
  let outbox: OutboxRepo;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-outbox-'));
    db = openDb(join(dir, 'ood.db'));
    outbox = new OutboxRepo(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a key once per target: a second enqueue is a no-op', () => {
    expect(outbox.enqueue('world:up:1', 'discord', '{"a":1}', 1_000)).toBe(true);
    expect(outbox.enqueue('world:up:1', 'discord', '{"a":2}', 2_000)).toBe(false);
    expect(outbox.enqueue('world:up:1', 'webhook', '{"a":1}', 1_000)).toBe(true);
    expect(outbox.list().map((r) => [r.eventKey, r.target, r.payload])).toEqual([
      ['world:up:1', 'discord', '{"a":1}'],
      ['world:up:1', 'webhook', '{"a":1}'],
    ]);
  });

  it('claims due rows once, counting the attempt, and none that are being sent', () => {
    outbox.enqueue('world:up:1', 'discord', '{}', 1_000);
    outbox.enqueue('world:up:1', 'webhook', '{}', 1_000);
    expect(outbox.claimDue(999, 10)).toEqual([]);
    const claimed = outbox.claimDue(1_000, 10);
    expect(claimed.map((r) => [r.target, r.attempts, r.sendingSince])).toEqual([
      ['discord', 1, 1_000],
      ['webhook', 1, 1_000],
    ]);
    expect(outbox.claimDue(5_000, 10)).toEqual([]);
    expect(outbox.nextDue()).toBeUndefined();
  });

  it('respects the limit', () => {
    outbox.enqueue('world:up:1', 'discord', '{}', 1_000);
    outbox.enqueue('world:up:1', 'webhook', '{}', 1_000);
    expect(outbox.claimDue(1_000, 1)).toHaveLength(1);
    expect(outbox.claimDue(1_000, 0)).toHaveLength(0);
  });

  it('sends one message at a time per target, in order: a later one waits for the earlier', () => {
    outbox.enqueue('world:starting:1', 'discord', '{}', 1_000);
    outbox.enqueue('world:up:2', 'discord', '{}', 2_000);
    const [first] = outbox.claimDue(3_000, 10);
    expect(first?.eventKey).toBe('world:starting:1');
    expect(outbox.claimDue(3_000, 10)).toEqual([]);
    outbox.retryAt(first!.id, 10_000, 'answered HTTP 503');
    // The earlier one is still pending: the later waits even though it is due.
    expect(outbox.claimDue(5_000, 10)).toEqual([]);
    expect(outbox.nextDue()).toBe(10_000);
    expect(outbox.claimDue(10_000, 10).map((r) => [r.eventKey, r.attempts])).toEqual([['world:starting:1', 2]]);
    outbox.delivered(first!.id, 10_500);
    expect(outbox.nextDue()).toBe(2_000);
    expect(outbox.claimDue(10_500, 10).map((r) => r.eventKey)).toEqual(['world:up:2']);
  });

  it('closes rows as delivered, retried later or given up', () => {
    outbox.enqueue('k1', 'discord', '{}', 1_000);
    outbox.enqueue('k2', 'webhook', '{}', 1_000);
    const [a, b] = outbox.claimDue(1_000, 10);
    outbox.retryAt(a!.id, 3_000, 'answered HTTP 500');
    outbox.givenUp(b!.id, 1_100, 'answered HTTP 404');
    expect(outbox.get('k1', 'discord')).toMatchObject({ attempts: 1, nextAt: 3_000, sendingSince: null, lastError: 'answered HTTP 500', deliveredAt: null, givenUpAt: null });
    expect(outbox.get('k2', 'webhook')).toMatchObject({ attempts: 1, sendingSince: null, givenUpAt: 1_100, lastError: 'answered HTTP 404' });
    expect(outbox.claimDue(2_999, 10)).toEqual([]);
    const [again] = outbox.claimDue(3_000, 10);
    outbox.delivered(again!.id, 3_200);
    expect(outbox.get('k1', 'discord')).toMatchObject({ attempts: 2, deliveredAt: 3_200, lastError: null, sendingSince: null });
    expect(outbox.claimDue(1e12, 10)).toEqual([]);
    expect(outbox.nextDue()).toBeUndefined();
  });

  it('an outcome for a row no longer being sent changes nothing', () => {
    outbox.enqueue('k1', 'discord', '{}', 1_000);
    const [row] = outbox.claimDue(1_000, 10);
    outbox.closeInterrupted(2_000);
    outbox.delivered(row!.id, 2_500);
    expect(outbox.get('k1', 'discord')).toMatchObject({ deliveredAt: null, givenUpAt: 2_000 });
  });

  it('at start-up, gives up rows a crash left being sent (never sends them twice), and only those', () => {
    outbox.enqueue('k1', 'discord', '{}', 1_000);
    outbox.enqueue('k2', 'webhook', '{}', 1_000);
    outbox.claimDue(1_000, 1);
    // A crash here: k1 was being sent. A new controller opens the same file.
    db.close();
    db = openDb(join(dir, 'ood.db'));
    outbox = new OutboxRepo(db);
    expect(outbox.closeInterrupted(5_000)).toBe(1);
    expect(outbox.get('k1', 'discord')).toMatchObject({ givenUpAt: 5_000, lastError: STOPPED_DURING_DELIVERY, sendingSince: null });
    expect(outbox.claimDue(5_000, 10).map((r) => r.eventKey)).toEqual(['k2']);
    expect(outbox.closeInterrupted(6_000)).toBe(1);
  });

  it('prunes only closed rows older than the cut-off', () => {
    outbox.enqueue('old-done', 'discord', '{}', 1_000);
    outbox.enqueue('old-pending', 'webhook', '{}', 1_000);
    outbox.enqueue('new-done', 'discord', '{}', 9_000);
    for (const r of outbox.claimDue(9_000, 10)) if (r.target === 'discord') outbox.delivered(r.id, 9_000);
    const [next] = outbox.claimDue(9_000, 10);
    outbox.delivered(next!.id, 9_000);
    expect(outbox.prune(5_000)).toBe(1);
    expect(outbox.list().map((r) => r.eventKey)).toEqual(['old-pending', 'new-done']);
  });
});
