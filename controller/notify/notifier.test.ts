import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { createLogger, silentLogger } from '../log.js';
import type { PhaseMove } from '../reconcile/runner-events.js';
import { Store } from '../store/store.js';
import { OutboxRepo } from './outbox.js';
import { Notifier, type NotifierOptions } from './notifier.js';

const ALL: Config['notifications'] = { events: ['starting', 'up', 'empty', 'archived', 'failed'], discord: true, webhook: true, timeout: 10_000, maxAttempts: 8 };
const URLS = { discordUrl: 'https://discord.example/api/webhooks/1/discord-token', webhookUrl: 'https://hooks.example/ood/hook-token' };

describe('Notifier: what the loop and the controller tell it becomes outbox rows', () => {
  let dir: string;
  let store: Store;
  let outbox: OutboxRepo;
  const notifiers: Notifier[] = [];
  const make = (o: Partial<NotifierOptions> = {}) => {
    const n = new Notifier({ db: store.db, config: ALL, urls: URLS, log: silentLogger, ...o });
    notifiers.push(n);
    return n;
  };
  const move = (m: Partial<PhaseMove> & Pick<PhaseMove, 'from' | 'to'>): PhaseMove => ({ server: 'world', reason: 'because', at: 5_000, address: null, ...m });
  const rows = () => outbox.list().map((r) => ({ key: r.eventKey, target: r.target, body: JSON.parse(r.payload) as Record<string, unknown> }));
  const hook = () => rows().filter((r) => r.target === 'webhook').map((r) => r.body);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-notifier-'));
    store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['world'], 1_000);
    outbox = new OutboxRepo(store.db);
  });
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.close()));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a move to running says it is up, with the address, to both targets', () => {
    make().events.moved!(move({ from: 'booting', to: 'running', address: '127.0.0.1:25565' }));
    expect(rows().map((r) => [r.key, r.target])).toEqual([
      ['world:up:5000', 'discord'],
      ['world:up:5000', 'webhook'],
    ]);
    expect(hook()[0]).toMatchObject({ event: 'up', server: 'world', address: '127.0.0.1:25565', text: 'world is up at 127.0.0.1:25565' });
    expect(rows()[0]!.body).toEqual({ content: 'world is up at 127.0.0.1:25565', allowed_mentions: { parse: [] }, flags: 4, username: 'OoD' });
  });

  it('archived names the snapshot of the latest ok snapshot step, local or DigitalOcean', () => {
    const n = make();
    const e1 = store.journal.intent('world', 'snapshotting', 'snapshot', null, 1_000);
    store.journal.outcome(e1, 'ok', 1_100, null, 'Archived to ood-1800000000.tar.gz (12 entries, 0.1 MB, sha256 abcdef123456)');
    const e2 = store.journal.intent('world', 'snapshotting', 'snapshot', null, 2_000);
    store.journal.outcome(e2, 'error', 2_100, 'disk full');
    n.events.moved!(move({ from: 'destroying', to: 'archived', at: 3_000 }));
    const e3 = store.journal.intent('world', 'snapshotting', 'snapshot', null, 4_000);
    store.journal.outcome(e3, 'ok', 4_100, null, 'Snapshot ood-survival-1764000000 (id 123456789, 3 GB) of droplet 987654321 completed and is listed');
    n.events.moved!(move({ from: 'destroying', to: 'archived', at: 5_000 }));
    expect(hook().map((b) => [b.snapshot, b.text])).toEqual([
      ['ood-1800000000', 'world is archived as ood-1800000000'],
      ['ood-survival-1764000000', 'world is archived as ood-survival-1764000000'],
    ]);
  });

  it('archived with no snapshot in the journal says just archived', () => {
    make().events.moved!(move({ from: 'destroying', to: 'archived' }));
    expect(hook()).toMatchObject([{ event: 'archived', snapshot: null, text: 'world is archived' }]);
  });

  it('other moves to archived, and moves between working phases, say nothing', () => {
    const n = make();
    n.events.moved!(move({ from: 'provisioning', to: 'archived' }));
    n.events.moved!(move({ from: 'archived', to: 'provisioning' }));
    n.events.moved!(move({ from: 'running', to: 'stopping' }));
    expect(rows()).toEqual([]);
  });

  it('a failure says why', () => {
    make().events.moved!(move({ from: 'booting', to: 'failed', reason: 'boot failed after 3 attempts: the game exited' }));
    expect(hook()).toMatchObject([{ event: 'failed', reason: 'boot failed after 3 attempts: the game exited', text: 'world failed: boot failed after 3 attempts: the game exited' }]);
  });

  it('empty after play says when it stops; nobody having come says nothing', () => {
    const n = make();
    n.events.emptied!({ server: 'world', at: 10_000, stopsAt: 310_000, afterPlay: true });
    n.events.emptied!({ server: 'world', at: 20_000, stopsAt: 620_000, afterPlay: false });
    expect(hook()).toMatchObject([{ event: 'empty', text: 'world is empty — archiving in 5 min', stopsAt: new Date(310_000).toISOString() }]);
  });

  it('starting names who and how long', () => {
    make().starting('world', 'alice', 70_000, 9_000);
    expect(hook()).toMatchObject([{ event: 'starting', by: 'alice', etaSeconds: 70, text: 'alice is starting world — ready in about 70 s' }]);
  });

  it('the same event twice is queued once', () => {
    const n = make();
    n.starting('world', 'alice', 70_000, 9_000);
    n.starting('world', 'alice', 70_000, 9_000);
    expect(rows()).toHaveLength(2);
  });

  it('only the configured events, only to targets enabled with a URL', () => {
    make({ config: { ...ALL, events: ['up'], webhook: false } }).starting('world', 'alice', undefined, 1);
    make({ config: { ...ALL, events: ['up'], webhook: false } }).events.moved!(move({ from: 'booting', to: 'running', at: 2 }));
    make({ urls: { webhookUrl: URLS.webhookUrl } }).events.moved!(move({ from: 'booting', to: 'running', at: 3 }));
    make({ config: { ...ALL, discord: false, webhook: false } }).events.moved!(move({ from: 'booting', to: 'running', at: 4 }));
    expect(rows().map((r) => [r.key, r.target])).toEqual([
      ['world:up:2', 'discord'],
      ['world:up:3', 'webhook'],
    ]);
  });

  it('commits with the change it tells of, or not at all', () => {
    const n = make();
    expect(() =>
      store.db.transaction(() => {
        n.events.moved!(move({ from: 'booting', to: 'running', at: 7 }));
        throw new Error('the phase move failed');
      })(),
    ).toThrow('the phase move failed');
    expect(rows()).toEqual([]);
    store.db.transaction(() => n.events.moved!(move({ from: 'booting', to: 'running', at: 8 })))();
    expect(rows()).toHaveLength(2);
  });

  it('an outbox that cannot be written is logged, and the caller goes on', () => {
    const logs: string[] = [];
    const n = make({ log: createLogger('info', { write: (l: string) => void logs.push(l) }) });
    store.db.exec('DROP TABLE outbox');
    store.db.transaction(() => {
      n.events.moved!(move({ from: 'booting', to: 'running' }));
      store.journal.record('world', 'running', 'note', 'still committed', 1);
    })();
    expect(store.journal.list('world').map((e) => e.detail)).toContain('still committed');
    expect(logs.join('')).toMatch(/Could not queue a notification/);
  });

  it('refuses a URL that is not http(s) without repeating it', () => {
    const err = (() => {
      try {
        make({ urls: { discordUrl: 'discord-token-not-a-url' } });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/OOD_DISCORD_WEBHOOK_URL is not a URL/);
    expect((err as Error).message).not.toContain('discord-token');
    expect(() => make({ urls: { webhookUrl: 'ftp://hooks.example/x' } })).toThrow(/OOD_WEBHOOK_URL is a ftp: URL/);
    // A URL for a target that is not enabled is not looked at.
    expect(() => make({ config: { ...ALL, discord: false }, urls: { discordUrl: 'nonsense' } })).not.toThrow();
  });
});
