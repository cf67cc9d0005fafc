import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sessionTimeline } from './session-timeline.js';
import { Store } from './store.js';

const MIN = 60_000;

describe('a server history as sessions, from a real SQLite file', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-timeline-'));
    store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['survival'], 0);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A DigitalOcean session: asked for by `who`, a droplet for `minutes`, played by `players`, stopped by a snapshot step. */
  function session(at: number, who: string, minutes: number, players: string[], snapshot: string | null) {
    store.audit.add({ at, actor: who, source: '127.0.0.1', action: 'start', server: 'survival', detail: null });
    store.journal.record('survival', 'provisioning', 'phase', 'archived → provisioning: wanted up', at + 1);
    store.billing.open('survival', 'digitalocean', 's-1vcpu-2gb', at + 2);
    if (players.length) {
      store.sightings.saw('survival', players, at + 3);
      store.billing.addPlayerSeconds('survival', 60);
      store.sightings.saw('survival', players, at + 4);
    }
    const end = at + minutes * MIN;
    if (snapshot) {
      const step = store.journal.intent('survival', 'snapshotting', 'snapshot', 'save the world', end - 10);
      store.ownSnapshots.record({ server: 'survival', snapshotId: '77', name: snapshot, createdAt: end - 9, source: 'stop' }, end - 9);
      store.journal.outcome(step, 'ok', end - 8, null, `Snapshot ${snapshot} (id 77, 1 GB) of droplet 5 completed`);
    }
    store.billing.close('survival', end);
  }

  it('tells who started each, who played, how long, the cost, and the snapshot it ended in, newest first', () => {
    store.people.put('github:1', ['start'], 'test', 0);
    store.people.loggedIn('github:1', { name: 'Ann', avatar: null }, 0);
    session(10 * MIN, 'github:1', 30, ['ann'], 'ood-abc-survival-1000');
    session(100 * MIN, 'minecraft:bob', 60, ['bob'], 'ood-abc-survival-2000');
    // A later start that failed before any droplet: its steps are not any session's.
    store.journal.record('survival', 'failed', 'phase', 'provisioning → failed: quota', 300 * MIN);

    const { sessions, since } = sessionTimeline(store.db, 'survival', { now: 400 * MIN, prices: new Map([['s-1vcpu-2gb', { hourly: 0.018, monthly: 12 }]]) });
    expect(sessions).toHaveLength(2);
    const [second, first] = sessions;
    expect(first).toMatchObject({ startedBy: { actor: 'github:1', name: 'Ann' }, players: ['ann'], endedIn: 'ood-abc-survival-1000', size: 's-1vcpu-2gb' });
    expect(second).toMatchObject({ startedBy: { actor: 'minecraft:bob', name: null }, players: ['bob'], endedIn: 'ood-abc-survival-2000' });
    // DigitalOcean's minimum of $0.01 for the 30 minutes; the hour is the hourly price.
    expect(first!.usd).toBe(0.01);
    expect(second!.usd).toBeCloseTo(0.018, 5);
    expect(first!.journal.map((e) => e.step)).toEqual(['phase', 'snapshot']);
    expect(second!.journal.every((e) => e.intentAt > first!.endedAt!)).toBe(true);
    expect(since.map((e) => e.detail)).toEqual(['provisioning → failed: quota']);
  });

  it('lists nobody as playing in a session with no play, though a name was seen before and after it', () => {
    session(10 * MIN, 'github:1', 10, ['ann'], 'a');
    session(30 * MIN, 'github:1', 10, [], 'b');
    session(50 * MIN, 'github:1', 10, ['ann'], 'c');
    const { sessions } = sessionTimeline(store.db, 'survival', { now: 100 * MIN, prices: new Map() });
    expect(sessions.map((s) => s.players)).toEqual([['ann'], [], ['ann']]);
    expect(sessions[0]!.usd).toBeNull();
  });
});
