import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { adminAudit, pruneAudit } from '../controller/store/audit-retention.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { startRecordingIssuer, type RecordingIssuer } from './helpers/recording-issuer.js';
import { loginAs, WebClient } from './helpers/web-client.js';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;

/** An `/events` stream held open from `address` (behind the trusted proxy); resolves with its status. */
function openStream(client: WebClient, address: string): Promise<{ status: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'text/event-stream', cookie: client.cookie, 'x-forwarded-for': address };
    const req = request(`${client.url}/events`, { agent: false, headers }, (res: IncomingMessage) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The web pages' limits as an attacker with many addresses, or a login that is on nobody's list, tries them. */
describe('web limits under attack', () => {
  let home: OodHome;
  let serving: Serving;
  let evil: RecordingIssuer;
  const db = () => serving.controller.store.db;
  const rows = () => (db().prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n;
  // Each test floods from its own /64, so one test's limits do not reach another's.
  let block = 0x10;
  const newBlock = () => `2001:db8:${(block++).toString(16)}:2`;

  beforeAll(async () => {
    evil = await startRecordingIssuer({ clientId: 'ood-evil', sub: 'mallory' });
    home = await makeOodHome({ config: { web: { trustProxy: 1, admins: ['github:1'], providers: { oidc: [{ name: 'evil', issuer: evil.issuer, clientId: 'ood-evil' }] } } } });
    serving = await serveInProcess(home.configPath, { OOD_OAUTH_EVIL_SECRET: 's' });
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
    await evil?.close();
  });

  it('counts the addresses of one IPv6 /64 as one for the login round trip: 40 starts from 40 addresses write 30 rows', async () => {
    const net = newBlock();
    const before = rows();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await new WebClient(serving.url).get('/connect/oidc-evil', { 'x-forwarded-for': `${net}::${(i + 1).toString(16)}` })).status);
    expect(statuses.filter((s) => s === 302)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual(new Array(10).fill(429));
    expect(rows() - before).toBe(30);
  });

  it('counts the addresses of one IPv6 /64 as one for the login pages: 70 addresses get 60 pages', async () => {
    const net = newBlock();
    const statuses: number[] = [];
    for (let i = 0; i < 70; i++) statuses.push((await new WebClient(serving.url).get('/login', { 'x-forwarded-for': `${net}::1:${(i + 1).toString(16)}` })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.at(-1)).toBe(429);
  });

  it('counts live pages per /64: the 17th stream from 17 addresses of one /64 is refused', async () => {
    const net = newBlock();
    const people = ['github:11', 'github:12', 'github:13'];
    for (const p of people) serving.controller.store.people.put(p, [], 'test', Date.now());
    const clients = await Promise.all(people.map((p) => loginAs(serving, p)));
    const open: { status: number; close(): void }[] = [];
    try {
      for (let i = 0; i < 17; i++) open.push(await openStream(clients[Math.floor(i / 8)]!, `${net}::${(i + 1).toString(16)}`));
      expect(open.slice(0, 16).map((s) => s.status)).toEqual(new Array(16).fill(200));
      expect(open[16]!.status).toBe(429);
    } finally {
      for (const s of open) s.close();
    }
  });

  it('refuses a new login start with 503 while more than 5,000 logins are in progress, and writes no row', async () => {
    const sessions = serving.controller.store.sessions;
    const now = Date.now();
    db().transaction(() => {
      for (let i = 0; i <= 5_000; i++) sessions.set(`flood-${i}`, { grant: { state: `s${i}` } }, now + HOUR);
    })();
    try {
      const before = rows();
      const refused = await new WebClient(serving.url).get('/connect/oidc-evil', { 'x-forwarded-for': `${newBlock()}::1` });
      expect(refused.status).toBe(503);
      expect(refused.text).toContain('too many logins in progress, try again in a minute');
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(rows()).toBe(before);
    } finally {
      db().prepare("DELETE FROM sessions WHERE id LIKE 'flood-%'").run();
    }
    expect((await new WebClient(serving.url).get('/connect/oidc-evil', { 'x-forwarded-for': `${newBlock()}::1` })).status).toBe(302);
  });

  it("gives a login by someone on nobody's list the short lifetime and its own audit action, kept off the admin's audit view", async () => {
    const headers = { 'x-forwarded-for': `${newBlock()}::7` };
    const stranger = new WebClient(serving.url);
    const start = await stranger.get('/connect/oidc-evil', headers);
    const sent = new URL(start.location!).searchParams;
    const done = await stranger.get(`/connect/oidc-evil/callback?code=${sent.get('nonce')}&state=${sent.get('state')}`, headers);
    expect(done.status).toBe(302);
    const row = db().prepare("SELECT expires_at FROM sessions WHERE identity LIKE '%mallory'").get() as { expires_at: number };
    // koa-session gives its store 10 s beyond the session's lifetime.
    expect(row.expires_at).toBeLessThanOrEqual(Date.now() + HOUR + 10_000);
    const actions = db().prepare("SELECT action FROM audit WHERE actor LIKE '%mallory'").all() as { action: string }[];
    expect(actions.map((a) => a.action)).toEqual(['login refused: not on the list']);
    const view = adminAudit(db(), Date.now());
    expect(view.entries.filter((a) => a.actor.endsWith(':mallory'))).toEqual([]);
    expect(view.refusedLogins).toBe(1);
    const admin = await loginAs(serving, 'github:1');
    expect((await admin.get('/admin')).text).toContain('1 logins by people not on the list in the last 7 days');
  });

  it('prunes audit rows past 90 days, refused logins past 7 days or 10,000, and keeps at most 100,000 rows', () => {
    const now = Date.now();
    const add = db().prepare("INSERT INTO audit (at, actor, source, action, server, detail) VALUES (?, 'test', '192.0.2.1', ?, NULL, NULL)");
    db().transaction(() => {
      add.run(now - 91 * DAY, 'login');
      add.run(now - 8 * DAY, 'login refused: not on the list');
      add.run(now - 89 * DAY, 'login');
      for (let i = 0; i < 10_005; i++) add.run(now - HOUR, 'login refused: not on the list');
      for (let i = 0; i < 100_000; i++) add.run(now - HOUR, 'start');
    })();
    let gone = 0;
    for (let i = 0; i < 1_000; i++) {
      const n = pruneAudit(db(), now);
      if (n === 0) break;
      gone += n;
    }
    const count = (where: string) => (db().prepare(`SELECT COUNT(*) AS n FROM audit WHERE ${where}`).get() as { n: number }).n;
    expect(count('1')).toBe(100_000);
    expect(count(`at < ${now - 90 * DAY}`)).toBe(0);
    expect(count(`action = 'login refused: not on the list'`)).toBeLessThanOrEqual(10_000);
    expect(count(`action = 'login refused: not on the list' AND at < ${now - 7 * DAY}`)).toBe(0);
    expect(gone).toBeGreaterThan(0);
  });
});
