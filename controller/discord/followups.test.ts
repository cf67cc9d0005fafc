import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { OutboxRepo } from '../notify/outbox.js';
import type { PhaseMove } from '../reconcile/runner-events.js';
import type { Phase } from '../reconcile/types.js';
import { openDb, type Db } from '../store/db.js';
import { DiscordFollowups, FIRST_EDIT_AFTER_MS, TOKEN_EXPIRED, TRACK_FOR_MS, type TrackRequest } from './followups.js';
import { DISCORD_USER_AGENT } from './user-agent.js';

const T0 = 1_780_000_000_000;
const API = 'http://127.0.0.1:9/api/v10';

describe('DiscordFollowups', () => {
  let dir: string;
  let db: Db;
  let outbox: OutboxRepo;
  let followups: DiscordFollowups;
  let wakes: number;
  let wantedUp: boolean;
  /** What the card shows per phase; a test can make two phases look alike. */
  let titles: Partial<Record<Phase, string>>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-followups-'));
    db = openDb(join(dir, 'ood.db'));
    outbox = new OutboxRepo(db);
    wakes = 0;
    wantedUp = true;
    titles = {};
    followups = new DiscordFollowups({
      db,
      apiUrl: API,
      render: ({ server, identity, move }) => ({ embeds: [{ title: `${server}: ${titles[move.to] ?? move.to}`, description: `for ${identity}` }], components: [] }),
      wantedUp: () => wantedUp,
      wake: () => wakes++,
      log: createLogger('silent'),
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const track = (over: Partial<TrackRequest> = {}) =>
    followups.track({ interactionId: 'i1', applicationId: 'app', token: 'tok-secret', server: 's', identity: 'discord:1', messageId: null, now: T0, ...over });
  /** A move as the loop makes it: inside a transaction, with the phase change. */
  const move = (from: Phase, to: Phase, at: number, address: string | null = null, server = 's') => {
    const m: PhaseMove = { server, from, to, reason: 'test', at, address };
    db.transaction(() => followups.events.moved!(m))();
  };
  const row = (id = 'i1') => db.prepare('SELECT * FROM discord_messages WHERE interaction_id = ?').get(id) as { token: string; done_at: number | null; last_card: string | null };

  it('queues one edit per move, to the message of the interaction, after the first answer had time to arrive', () => {
    track();
    move('archived', 'provisioning', T0 + 10);
    move('provisioning', 'booting', T0 + 2_000, '127.0.0.1:25565');
    const rows = outbox.list();
    expect(rows.map((r) => [r.eventKey, r.target])).toEqual([
      [`s:provisioning:${T0 + 10}`, 'discord-edit:i1'],
      [`s:booting:${T0 + 2_000}`, 'discord-edit:i1'],
    ]);
    expect(rows[0]!.nextAt).toBe(T0 + FIRST_EDIT_AFTER_MS);
    expect(rows[1]!.nextAt).toBe(T0 + 2_000);
    expect(JSON.parse(rows[0]!.payload)).toEqual({ embeds: [{ title: 's: provisioning', description: 'for discord:1' }], components: [], allowed_mentions: { parse: [] } });
    expect(rows.every((r) => !r.payload.includes('tok-secret'))).toBe(true);
    expect(wakes).toBe(2);
  });

  it('queues nothing for a move whose card did not change, and nothing for another server', () => {
    track();
    titles = { provisioning: 'starting', booting: 'starting' };
    move('archived', 'provisioning', T0 + 10);
    move('provisioning', 'booting', T0 + 20);
    move('archived', 'provisioning', T0 + 30, null, 'other');
    expect(outbox.list().map((r) => r.eventKey)).toEqual([`s:provisioning:${T0 + 10}`]);
    expect(wakes).toBe(1);
  });

  it('stops at running: the final edit goes, later moves send nothing', () => {
    track();
    move('booting', 'running', T0 + 10, '127.0.0.1:25565');
    expect(row().done_at).toBe(T0 + 10);
    move('running', 'stopping', T0 + 20);
    expect(outbox.list().map((r) => r.eventKey)).toEqual([`s:running:${T0 + 10}`]);
  });

  it('a stop is done at archived; a start that passes through archived (stopping first) is not', () => {
    track();
    move('stopping', 'archived', T0 + 10);
    expect(row().done_at).toBeNull();
    wantedUp = false;
    move('destroying', 'archived', T0 + 20);
    expect(row().done_at).toBe(T0 + 20);
  });

  it('sends no edit once the token is about to expire, and gives up an edit that waited past it', () => {
    track();
    move('archived', 'provisioning', T0 + 10);
    const [waiting] = outbox.list();
    expect(followups.resolve(waiting!, T0 + TRACK_FOR_MS)).toEqual({ giveUp: TOKEN_EXPIRED });
    move('provisioning', 'booting', T0 + TRACK_FOR_MS);
    expect(outbox.list()).toHaveLength(1);
  });

  it('routes an edit to PATCH the interaction’s original message', () => {
    track({ token: 'a/b' });
    move('archived', 'provisioning', T0 + 10);
    expect(followups.resolve(outbox.list()[0]!, T0 + 20)).toEqual({ method: 'PATCH', url: `${API}/webhooks/app/a%2Fb/messages/@original`, userAgent: DISCORD_USER_AGENT });
  });

  it('a press on a message takes it over: the older rows stop, their waiting edits are given up', () => {
    track();
    move('archived', 'provisioning', T0 + 10);
    const older = outbox.list()[0]!;
    track({ interactionId: 'i2', token: 'tok2', messageId: 'm1', originalInteractionId: 'i1', now: T0 + 100 });
    expect(row('i1')).toMatchObject({ token: '', done_at: T0 + 100 });
    expect('giveUp' in followups.resolve(older, T0 + 200)).toBe(true);
    move('provisioning', 'booting', T0 + 200);
    expect(outbox.list().map((r) => r.target)).toEqual(['discord-edit:i1', 'discord-edit:i2']);
    // A second press on the same message (by its id) takes it over again.
    track({ interactionId: 'i3', token: 'tok3', messageId: 'm1', now: T0 + 300 });
    expect(row('i2').token).toBe('');
  });

  it('at start-up, repeats only the newest edit of a message that a kill cut off mid-send', () => {
    track();
    track({ interactionId: 'i2', token: 'tok2' });
    move('archived', 'provisioning', T0 + 10);
    move('booting', 'running', T0 + 20);
    // Claimed (sending) and then the controller died: i1's and i2's provisioning rows first.
    const claimed = outbox.claimDue(T0 + 5_000, 10);
    expect(claimed.map((r) => r.eventKey)).toEqual([`s:provisioning:${T0 + 10}`, `s:provisioning:${T0 + 10}`]);
    expect(followups.resync(T0 + 6_000)).toBe(0);
    outbox.delivered(claimed[0]!.id, T0 + 5_001);
    outbox.delivered(claimed[1]!.id, T0 + 5_001);
    const finals = outbox.claimDue(T0 + 7_000, 10);
    expect(finals.map((r) => r.eventKey)).toEqual([`s:running:${T0 + 20}`, `s:running:${T0 + 20}`]);
    outbox.delivered(finals[1]!.id, T0 + 7_001);
    expect(followups.resync(T0 + 8_000)).toBe(1);
    const again = outbox.list().filter((r) => r.eventKey.includes(':resync:'));
    expect(again.map((r) => [r.target, r.payload])).toEqual([[finals[0]!.target, finals[0]!.payload]]);
    expect(outbox.closeInterrupted(T0 + 8_000)).toBe(1);
    expect(outbox.claimDue(T0 + 8_001, 10).map((r) => r.eventKey)).toEqual([again[0]!.eventKey]);
  });

  it('the sweep blanks the token of finished and expired rows (not while an edit waits) and deletes them a day later', () => {
    track();
    track({ interactionId: 'i2', token: 'tok2', server: 'other' });
    move('booting', 'running', T0 + 10);
    expect(followups.prune(T0 + 20)).toBe(0);
    const [final] = outbox.claimDue(T0 + 5_000, 10);
    outbox.delivered(final!.id, T0 + 5_001);
    expect(followups.prune(T0 + 6_000)).toBe(1);
    expect(row('i1').token).toBe('');
    expect(row('i2').token).toBe('tok2');
    expect(followups.prune(T0 + TRACK_FOR_MS)).toBe(1);
    expect(row('i2')).toMatchObject({ token: '', done_at: T0 + TRACK_FOR_MS });
    expect(followups.prune(T0 + TRACK_FOR_MS + 25 * 3_600_000)).toBe(2);
    expect(row('i1')).toBeUndefined();
  });
});
