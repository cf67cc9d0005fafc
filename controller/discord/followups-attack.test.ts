// Many Discord messages tracked for one server (issue 21): every listed person may send /ood start 20
// times a minute, each message is tracked for 14.5 min, and every phase move queues one edit per open
// message. Those edits share the outbox, 4 at a time and oldest first, with the group's own
// notifications ("world is up"), so without a bound one move queues hundreds of PATCHes ahead of them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { OutboxRepo } from '../notify/outbox.js';
import type { PhaseMove } from '../reconcile/runner-events.js';
import { openDb, type Db } from '../store/db.js';
import { DiscordFollowups } from './followups.js';

const T0 = 1_780_000_000_000;

describe('DiscordFollowups with many messages for one server', () => {
  let dir: string;
  let db: Db;
  let followups: DiscordFollowups;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-followups-attack-'));
    db = openDb(join(dir, 'ood.db'));
    followups = new DiscordFollowups({
      db,
      apiUrl: 'http://127.0.0.1:9/api/v10',
      render: ({ server, move }) => ({ embeds: [{ title: `${server}: ${move.to}` }], components: [] }),
      wantedUp: () => true,
      wake: () => {},
      log: createLogger('silent'),
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues a bounded number of edits per move, the newest messages kept live', () => {
    // 50 listed people, 20 starts each in a minute: 1,000 messages for one server.
    for (let i = 0; i < 1_000; i++) {
      followups.track({ interactionId: `${i + 1}`, applicationId: 'app', token: `tok-${i}`, server: 'world', identity: `discord:${i % 50}`, messageId: null, now: T0 + i * 60 });
    }
    const m: PhaseMove = { server: 'world', from: 'archived', to: 'provisioning', reason: 'test', at: T0 + 61_000, address: null };
    db.transaction(() => followups.events.moved!(m))();
    const queued = new OutboxRepo(db).list().filter((r) => r.target.startsWith('discord-edit:'));
    expect(queued.length).toBeLessThanOrEqual(50);
    // The newest message is among those edited.
    expect(queued.some((r) => r.target === 'discord-edit:1000')).toBe(true);
  });
});
