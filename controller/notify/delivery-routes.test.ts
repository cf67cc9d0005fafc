import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDiscordReceiver, type DiscordReceiver } from '../../test/helpers/discord.js';
import { waitUntil } from '../../test/helpers/wait.js';
import { DiscordFollowups, EDIT_TARGET_PREFIX, MESSAGE_GONE, TOKEN_EXPIRED, TRACK_FOR_MS } from '../discord/followups.js';
import { createLogger } from '../log.js';
import { openDb, type Db } from '../store/db.js';
import { DeliveryWorker } from './delivery.js';
import { OutboxRepo, type OutboxRow } from './outbox.js';

const TOKEN = 'aW50ZXJhY3Rpb246secret-token-of-the-interaction';

/** The worker with Discord edits routed by DiscordFollowups, as the Controller wires them, against a stand-in for Discord. */
describe('DeliveryWorker routes a Discord message’s edits', () => {
  let dir: string;
  let db: Db;
  let outbox: OutboxRepo;
  let rx: DiscordReceiver;
  let worker: DeliveryWorker | undefined;
  let logs: string[];
  let clock: number | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-delivery-routes-'));
    db = openDb(join(dir, 'ood.db'));
    outbox = new OutboxRepo(db);
    rx = await startDiscordReceiver();
    logs = [];
    clock = undefined;
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await rx.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (apiUrl = rx.apiUrl, urls: Record<string, string> = {}) => {
    const log = createLogger('debug', { write: (line: string) => void logs.push(line) });
    const now = () => clock ?? Date.now();
    const followups = new DiscordFollowups({ db, apiUrl, render: () => ({ embeds: [], components: [] }), wantedUp: () => true, wake: () => worker?.wake(), log });
    worker = new DeliveryWorker({
      outbox,
      urls,
      resolve: (row, at) => (row.target.startsWith(EDIT_TARGET_PREFIX) ? followups.resolve(row, at) : undefined),
      timeoutMs: 2_000,
      maxAttempts: 3,
      log,
      clock: now,
      backoff: { firstMs: 100, maxMs: 200 },
      closeGraceMs: 500,
    });
    followups.track({ interactionId: 'i1', applicationId: 'app1', token: TOKEN, server: 's', identity: 'discord:1', messageId: null, now: now() });
    worker.start();
  };
  const edit = (key: string, body: unknown) => {
    outbox.enqueue(key, 'discord-edit:i1', JSON.stringify(body), Date.now());
    worker!.wake();
  };
  const settled = (key: string, target: OutboxRow['target'] = 'discord-edit:i1') =>
    waitUntil(`${key} to be delivered or given up`, () => {
      const row = outbox.get(key, target);
      return row && (row.deliveredAt !== null || row.givenUpAt !== null) ? row : undefined;
    });

  it('PATCHes the original message with the card; a channel notification is still POSTed to its URL', async () => {
    start(rx.apiUrl, { discord: `${rx.apiUrl}/webhooks/hook1/hooktoken` });
    edit('s:booting:1', { embeds: [{ title: 's: booting' }], components: [], allowed_mentions: { parse: [] } });
    outbox.enqueue('s:up:1', 'discord', JSON.stringify({ content: 'up' }), Date.now());
    worker!.wake();
    expect((await settled('s:booting:1')).deliveredAt).not.toBeNull();
    expect((await settled('s:up:1', 'discord')).deliveredAt).not.toBeNull();
    const sorted = [...rx.requests].sort((a, b) => b.method.localeCompare(a.method));
    expect(sorted.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/webhooks/hook1/hooktoken'],
      ['PATCH', `/webhooks/app1/${TOKEN}/messages/@original`],
    ]);
    expect(sorted[1]!.body).toEqual({ embeds: [{ title: 's: booting' }], components: [], allowed_mentions: { parse: [] } });
    expect(sorted[1]!.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(sorted[1]!.headers.authorization).toBeUndefined();
    // Discord asks its own form of User-Agent of interaction requests too; the channel webhook keeps OoD's.
    expect(sorted[1]!.headers['user-agent']).toMatch(/^DiscordBot \(https:\/\/\S+, \d+\.\d+\.\d+\)$/);
  });

  it('gives up an edit whose interaction token expired, without sending it', async () => {
    clock = Date.now();
    start();
    clock += TRACK_FOR_MS;
    edit('s:running:1', { embeds: [] });
    const row = await settled('s:running:1');
    expect(row).toMatchObject({ deliveredAt: null, lastError: TOKEN_EXPIRED });
    expect(rx.requests).toHaveLength(0);
  });

  it('gives up at once on a 404, and the message’s later edits unsent (Discord: a webhook that answered 404 must not be tried again)', async () => {
    start();
    rx.answerNext(1, { status: 404, body: { message: 'Unknown Webhook', code: 10015 } });
    edit('s:booting:1', { embeds: [] });
    const row = await settled('s:booting:1');
    expect(row).toMatchObject({ attempts: 1, deliveredAt: null, lastError: 'answered HTTP 404' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(rx.requests).toHaveLength(1);
    // The message's later edits are not sent either.
    edit('s:running:1', { embeds: [] });
    expect(await settled('s:running:1')).toMatchObject({ attempts: 1, deliveredAt: null, lastError: MESSAGE_GONE });
    expect(rx.requests).toHaveLength(1);
  });

  it('keeps the token out of errors and logs when the request cannot even be made', async () => {
    // fetch refuses a URL with credentials, naming the whole URL (token included) in its message.
    start(rx.apiUrl.replace('http://', 'http://user:pw@'));
    edit('s:booting:1', { embeds: [] });
    const row = await settled('s:booting:1');
    expect(row.givenUpAt).not.toBeNull();
    expect(row.lastError).toMatch(/\[url\]/);
    expect(row.lastError).not.toContain(TOKEN);
    expect(logs.join('\n')).toContain('Gave up on a notification to discord-edit:i1');
    expect(logs.join('\n')).not.toContain(TOKEN);
  });
});
