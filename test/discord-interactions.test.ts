import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { autocompleteBody, commandBody, componentBody, discordKeys, pingBody, signedPost, signInteraction, startDiscordReceiver, type DiscordKeys, type DiscordReceiver } from './helpers/discord.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

// Discord's interactions endpoint on a real controller (local driver, real SQLite, the bundled game),
// with requests signed by a real Ed25519 key pair and shaped as Discord documents them.

const APP = '1234567890123456789';
const ctx = { applicationId: APP };
const LISTED = { userId: '200000000000000001', username: 'ann' };
const STARTER = { userId: '200000000000000002', username: 'bo' };
const STRANGER = { userId: '200000000000000003', username: 'eve' };

type Answer = { type: number; data?: { flags?: number; content?: string; embeds?: { title: string; fields: { name: string; value: string }[] }[]; components?: { components: { custom_id: string; label: string }[] }[]; choices?: { name: string; value: string }[]; allowed_mentions?: unknown } };

describe('Discord interactions endpoint', () => {
  let home: OodHome;
  let serving: Serving;
  let keys: DiscordKeys;
  let url: string;
  let receiver: DiscordReceiver;
  const post = async (body: unknown) => {
    const res = await signedPost(url, body, keys);
    expect(res.status, res.text).toBe(200);
    return res.json as Answer;
  };
  const buttons = (a: Answer) => (a.data?.components ?? []).flatMap((row) => row.components.map((b) => b.custom_id));
  const auditRows = () => serving.controller.store.db.prepare("SELECT actor, source, action, server, detail FROM audit WHERE source = 'discord' ORDER BY id").all();

  beforeAll(async () => {
    keys = discordKeys();
    home = await makeOodHome({ config: { discord: { applicationId: APP, publicKey: keys.publicKeyHex.toUpperCase() }, web: { publicUrl: 'https://ood.example.com' } } });
    receiver = await startDiscordReceiver();
    serving = await serveInProcess(home.configPath, { OOD_DISCORD_API_URL: receiver.apiUrl });
    url = `${serving.url}/discord/interactions`;
    const people = serving.controller.store.people;
    people.put(`discord:${LISTED.userId}`, ['start', 'stop'], 'test', Date.now());
    people.put(`discord:${STARTER.userId}`, ['start'], 'test', Date.now());
  });
  afterAll(async () => {
    await serving?.close();
    await receiver?.close();
    await home?.cleanup();
  });

  it('answers a signed PING with PONG', async () => {
    const res = await signedPost(url, pingBody(ctx), keys);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json).toEqual({ type: 1 });
  });

  it('answers 401 "invalid request signature" to another key, a changed body, a stale timestamp and a replay', async () => {
    const other = discordKeys();
    const body = pingBody(ctx);
    const wrongKey = await signedPost(url, body, other);
    expect([wrongKey.status, wrongKey.json]).toEqual([401, { error: 'invalid request signature' }]);
    const changed = await signedPost(url, body, keys, { signBody: JSON.stringify({ ...body, id: '1' }) });
    expect(changed.status).toBe(401);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(unsigned.status).toBe(401);
    const malformed = await signedPost(url, body, keys, { headers: { 'X-Signature-Ed25519': 'not hex at all' } });
    expect(malformed.status).toBe(401);
    for (const offset of [-301, 301]) {
      const stale = await signedPost(url, pingBody(ctx), keys, { timestamp: Math.floor(Date.now() / 1000) + offset });
      expect(stale.status, `offset ${offset}`).toBe(401);
    }
    // The very same signed request a second time: what a captured request played again looks like.
    const raw = JSON.stringify(pingBody(ctx));
    const headers = { 'content-type': 'application/json', ...signInteraction(raw, keys) };
    expect((await fetch(url, { method: 'POST', headers, body: raw })).status).toBe(200);
    const replay = await fetch(url, { method: 'POST', headers, body: raw });
    expect([replay.status, await replay.json()]).toEqual([401, { error: 'invalid request signature' }]);
  });

  it('refuses a body past 256 KiB (413), and signed nonsense or another application (400)', async () => {
    const big = await signedPost(url, JSON.stringify({ ...pingBody(ctx), pad: 'x'.repeat(300 * 1024) }), keys);
    expect(big.status).toBe(413);
    expect((await signedPost(url, '{not json', keys)).status).toBe(400);
    const notInteraction = await signedPost(url, { type: 99, id: '1', application_id: APP }, keys);
    expect(notInteraction.status).toBe(400);
    expect(String((notInteraction.json as { error: string }).error)).toMatch(/^not an interaction OoD understands/);
    const elsewhere = await signedPost(url, pingBody({ applicationId: '42' }), keys);
    expect(elsewhere.status).toBe(400);
  });

  it('/ood status answers a card with the buttons the person may press, mentioning nobody', async () => {
    const answer = await post(commandBody(ctx, STARTER, 'status'));
    expect(answer.type).toBe(4);
    expect(answer.data!.flags).toBeUndefined();
    expect(answer.data!.allowed_mentions).toEqual({ parse: [] });
    expect(answer.data!.embeds![0]!.title).toBe('world: Asleep');
    expect(answer.data!.embeds![0]!.fields.map((f) => f.name)).toContain('This month');
    expect(buttons(answer)).toEqual(['ood:start:world']);
  });

  it('autocompletes server names for listed people, and offers strangers none', async () => {
    expect(await post(autocompleteBody(ctx, LISTED, 'start', 'wo'))).toEqual({ type: 8, data: { choices: [{ name: 'world', value: 'world' }] } });
    expect(await post(autocompleteBody(ctx, LISTED, 'start', 'zz'))).toEqual({ type: 8, data: { choices: [] } });
    expect(await post(autocompleteBody(ctx, STRANGER, 'start', ''))).toEqual({ type: 8, data: { choices: [] } });
  });

  it('tells someone not on the list, only them, who they are, whom to ask and where to log in', async () => {
    const answer = await post(commandBody(ctx, STRANGER, 'start'));
    expect(answer.type).toBe(4);
    expect(answer.data!.flags).toBe(64);
    expect(answer.data!.content).toContain(`\`discord:${STRANGER.userId}\``);
    expect(answer.data!.content).toContain('https://ood.example.com/login');
    expect(answer.data!.content).toMatch(/Ask the person who runs this OoD|Ask its admin|Ask one of its admins/);
    expect(serving.controller.view('world').state.desired).toBe('down');
  });

  it('names the servers when asked for one that is not there', async () => {
    const answer = await post(commandBody(ctx, LISTED, 'start', 'nether'));
    expect(answer.data).toMatchObject({ flags: 64, content: 'There is no server "nether" here; the servers are world.' });
    // A subcommand from an older registration: said plainly, to the asker only.
    const unknown = await post(commandBody(ctx, LISTED, 'delete'));
    expect(unknown.data!.flags).toBe(64);
    expect(unknown.data!.content).toMatch(/^OoD has no command \/ood delete; .*ood discord register/);
  });

  it('refuses /ood stop to a person without "stop"', async () => {
    const answer = await post(commandBody(ctx, STARTER, 'stop'));
    expect(answer.data).toMatchObject({ flags: 64, content: 'You may not stop servers; ask an admin to give you "stop".' });
    expect(auditRows()).toEqual([]);
  });

  it("starts the server from a listed person's /ood start, and audits it as from Discord", async () => {
    const start = commandBody({ ...ctx, token: 'start-token' }, STARTER, 'start');
    const answer = await post(start);
    expect(answer.type).toBe(4);
    expect(answer.data!.embeds![0]!.title).toBe('world: Starting: waking up');
    // Bo may start but not stop: no Stop on Bo's card.
    expect(buttons(answer)).toEqual([]);
    const api = apiFor(serving.url);
    const running = await waitUntil('the server to run', async () => {
      const s = await api.server();
      return s.phase === 'running' && s;
    }, 60_000);
    expect(running.address).toBeTruthy();
    const status = await post(commandBody(ctx, LISTED, 'status', 'world'));
    expect(status.data!.embeds![0]!.title).toBe('world: Up');
    expect(status.data!.embeds![0]!.fields.find((f) => f.name === 'Address')?.value).toBe(`\`${running.address}\``);
    expect(buttons(status)).toEqual(['ood:stop:world', 'ood:keepalive:world']);
    expect(auditRows()).toEqual([{ actor: `discord:${STARTER.userId}`, source: 'discord', action: 'start', server: 'world', detail: '/ood start' }]);
    // The start's own message is edited as the phase moves, up to running with the address.
    const edits = await receiver.waitFor('the running edit', (r) => r.method === 'PATCH' && JSON.stringify(r.body).includes('world: Up'));
    expect(edits[0]!.path).toBe(`/webhooks/${APP}/start-token/messages/@original`);
    expect(JSON.stringify(edits[0]!.body)).toContain(running.address!);
  });

  it('a Keep alive press works for a person with "start"', async () => {
    const answer = await post(componentBody(ctx, STARTER, 'ood:keepalive:world', '300000000000000001'));
    expect(answer.type).toBe(7);
    expect(answer.data!.embeds![0]!.title).toBe('world: Up');
    expect(auditRows().at(-1)).toMatchObject({ actor: `discord:${STARTER.userId}`, action: 'keep-alive', source: 'discord' });
  });

  it('checks a button press again against the presser: a permission taken away before the press is refused', async () => {
    const card = await post(commandBody(ctx, LISTED, 'status'));
    expect(buttons(card)).toContain('ood:stop:world');
    serving.controller.store.people.put(`discord:${LISTED.userId}`, ['start'], 'test', Date.now());
    const refused = await post(componentBody(ctx, LISTED, 'ood:stop:world', '300000000000000002'));
    expect(refused.type).toBe(4);
    expect(refused.data).toMatchObject({ flags: 64, content: 'You may not stop servers; ask an admin to give you "stop".' });
    expect(serving.controller.view('world').state.desired).toBe('up');
    // A stranger's press on a card someone else asked for: refused too.
    expect((await post(componentBody(ctx, STRANGER, 'ood:stop:world', '300000000000000002'))).data!.flags).toBe(64);
    // Given back, the press updates the card in place (type 7) and the server stops.
    serving.controller.store.people.put(`discord:${LISTED.userId}`, ['start', 'stop'], 'test', Date.now());
    const pressed = await post(componentBody({ ...ctx, token: 'press-token' }, LISTED, 'ood:stop:world', '300000000000000002'));
    expect(pressed.type).toBe(7);
    expect(pressed.data!.flags).toBeUndefined();
    expect(pressed.data!.embeds![0]!.title).toMatch(/^world: Stopping/);
    expect(serving.controller.view('world').state.desired).toBe('down');
    expect(auditRows().at(-1)).toEqual({ actor: `discord:${LISTED.userId}`, source: 'discord', action: 'stop', server: 'world', detail: 'the stop button' });
    await waitUntil('the server to be archived', () => serving.controller.view('world').state.phase === 'archived', 60_000);
    // The pressed card is edited as the stop moves, through the press's own token, until it is asleep.
    const edits = await receiver.waitFor('the archived edit', (r) => r.method === 'PATCH' && r.path.includes('/press-token/') && JSON.stringify(r.body).includes('world: Asleep'));
    expect(edits[0]!.path).toBe(`/webhooks/${APP}/press-token/messages/@original`);
  });

  it('limits commands per person after verification (20 a minute), answering the 21st in words, not an error', async () => {
    const busy = { userId: '200000000000000009', username: 'busy' };
    serving.controller.store.people.put(`discord:${busy.userId}`, ['start'], 'test', Date.now());
    for (let i = 0; i < 20; i++) expect((await post(commandBody(ctx, busy, 'status'))).data!.flags, `request ${i}`).toBeUndefined();
    const limited = await post(commandBody(ctx, busy, 'status'));
    expect(limited.data).toMatchObject({ flags: 64, content: 'Too many OoD commands in a minute; wait a moment and try again.' });
    // Someone else is not held up by it.
    expect((await post(commandBody(ctx, LISTED, 'status'))).data!.flags).toBeUndefined();
  });

  it('answers a button from an older card (unknown id) with an ephemeral note', async () => {
    const answer = await post(componentBody(ctx, LISTED, 'ood:delete:world', '300000000000000003'));
    expect(answer.data).toMatchObject({ flags: 64 });
  });
});

describe('Discord interactions endpoint without discord in the config', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('is not there (404)', async () => {
    const res = await signedPost(`${serving.url}/discord/interactions`, pingBody(ctx), discordKeys());
    expect(res.status).toBe(404);
  });
});
