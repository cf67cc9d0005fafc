// The console on the web pages against bad input (issue 21): a command the game would not take, a flood
// of commands, a command while the game is not running, a 1 MB log line and a log truncated while it is
// followed. Each is handled (a clear error, a cut line, the file read again) and the stream lives on.
import { appendFileSync, truncateSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import type { LogLine } from '../controller/logs/log-hub.js';
import type { Permission } from '../controller/store/people.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs, WebClient } from './helpers/web-client.js';

/** One open console stream, read as the page's EventSource reads it. */
interface ConsoleStream {
  status: number;
  lines: () => LogLine[];
  events: () => string[];
  ended: () => boolean;
  close(): void;
}

function openConsole(client: WebClient, server = 'world'): Promise<ConsoleStream> {
  return new Promise((resolve, reject) => {
    const req = request(`${client.url}/servers/${server}/console/events`, { agent: false, headers: { accept: 'text/event-stream', cookie: client.cookie } }, (res: IncomingMessage) => {
      let text = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', () => (ended = true));
      res.on('close', () => (ended = true));
      const blocks = () => text.split('\n\n').slice(0, -1);
      resolve({
        status: res.statusCode ?? 0,
        events: () => blocks().map((b) => /^event: (.*)$/m.exec(b)?.[1] ?? 'comment'),
        lines: () => blocks().filter((b) => b.startsWith('event: line')).flatMap((b) => JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as LogLine[]),
        ended: () => ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const json = { accept: 'application/json' };

describe('the web console under attack', () => {
  let home: OodHome;
  let serving: Serving;
  let admin: WebClient;
  const open: ConsoleStream[] = [];
  const api = () => apiFor(serving.url);
  const gameLog = () => join(home.hostDir(), '.ood-game.log');
  const person = async (identity: string, permissions: Permission[]) => {
    serving.controller.store.people.put(identity, permissions, 'test', Date.now());
    return loginAs(serving, identity);
  };
  const stream = async (client: WebClient) => {
    const s = await openConsole(client);
    open.push(s);
    return s;
  };
  const send = (client: WebClient, command: string) => client.post('/servers/world/console', { command }, { headers: json });
  const errorOf = (res: { text: string }) => (JSON.parse(res.text) as { error: string }).error;

  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    admin = await loginAs(serving, LOCAL_ADMIN);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('refuses a command of 1447 bytes and one with a control character with 400 and the reason, and sends neither', async () => {
    const long = await send(admin, 'say ' + 'é'.repeat(721) + 'x');
    expect(Buffer.byteLength('say ' + 'é'.repeat(721) + 'x')).toBe(1447);
    expect(long.status).toBe(400);
    expect(errorOf(long)).toBe("the command is 1447 bytes long; the game's console takes at most 1446 bytes (UTF-8)");

    const smuggled = await send(admin, 'say hi\nop mallory');
    expect(smuggled.status).toBe(400);
    expect(errorOf(smuggled)).toBe('the command has a control character (U+000A) at position 7; send one line of text');
    const escape = await send(admin, 'say \u001b[31mred');
    expect(escape.status).toBe(400);
    expect(errorOf(escape)).toContain('U+001B');

    // Neither reached the audit log: only commands that go to the game are recorded.
    expect(serving.controller.store.audit.list(100).filter((a) => a.action === 'console')).toEqual([]);
  });

  it('refuses a command while the game is not running with 409, and a form without JavaScript gets the console page saying so', async () => {
    expect(serving.controller.view('world').state.phase).toBe('archived');
    const res = await send(admin, 'list');
    expect(res.status).toBe(409);
    expect(errorOf(res)).toBe('world is archived; the console takes commands only while it is running');

    const page = await admin.post('/servers/world/console', { command: 'list' });
    expect(page.status).toBe(409);
    expect(page.text).toContain('<h1>Console of world</h1>');
    expect(page.text).toContain('&gt; list\nworld is archived; the console takes commands only while it is running');
  });

  it('refuses a person without console (403) before anything else, and a post without the CSRF token (403)', async () => {
    const starter = await person('test:starter', ['start', 'stop']);
    const forged = await send(starter, 'op starter');
    expect(forged.status).toBe(403);
    expect(errorOf(forged)).toBe(`You may not use servers' consoles; ask an admin to give you "console".`);
    expect((await stream(starter)).status).toBe(403);
    expect((await starter.get('/servers/world')).text).not.toContain('console');

    const noToken = await admin.post('/servers/world/console', { command: 'list' }, { csrf: false, headers: json });
    expect(noToken.status).toBe(403);
    expect(errorOf(noToken)).toContain('CSRF token does not match');
  });

  it('carries console in invites and login links: the invite says so, and the person let in gets the console', async () => {
    const made = await admin.post('/admin/invites', { ttl: '1h', permissions: ['start', 'console'] }, { headers: json });
    expect(made.status).toBe(201);
    const link = (JSON.parse(made.text) as { link: string }).link;
    const invite = await new WebClient(serving.url).get(link.slice(serving.url.length).replace(/&amp;/g, '&'));
    expect(invite.text).toContain("start servers, and use their consoles (the game&#39;s log and commands)");

    const once = await admin.post('/admin/login-links', { name: 'Op', ttl: '1h', permissions: ['console'] }, { headers: json });
    expect(once.status).toBe(201);
    expect(serving.controller.store.people.get('local:Op')!.permissions).toEqual(['console']);
    const op = await loginAs(serving, 'local:Op');
    expect((await op.get('/servers/world')).text).toContain('<h2 id="console-title">Console</h2>');
  });

  it('refuses the 31st command of a minute from one person with 429, while another person may still send', async () => {
    const flooder = await person('test:flooder', ['console']);
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await send(flooder, `say flood ${i}`)).status);
    // The server is archived: the first 30 reach the controller (409), the 31st does not.
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(409));
    const refused = await send(flooder, 'say one more');
    expect(refused.status).toBe(429);
    expect(errorOf(refused)).toBe('More than 30 console commands in a minute; wait a moment and send it again.');
    expect((await send(admin, 'list')).status).toBe(409);
  });

  it("counts a person's commands through the page and through the API against one limit of 30 a minute", async () => {
    const splitter = await person('test:splitter', ['console']);
    await splitter.get('/servers/world');
    const viaApi = () =>
      fetch(`${serving.url}/api/servers/world/console`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: splitter.cookie, 'x-csrf-token': splitter.csrf },
        body: JSON.stringify({ command: 'say split' }),
      });
    for (let i = 0; i < 20; i++) expect((await send(splitter, `say page ${i}`)).status).toBe(409);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await viaApi()).status);
    expect(statuses).toEqual([...Array(10).fill(409), 429]);
    expect((await send(splitter, 'say page again')).status).toBe(429);
  });

  it('streams the game log: a 1 MB line arrives cut and the stream lives on; a truncated log is read again from its start', async () => {
    expect((await api().start()).status).toBe(202);
    await waitUntil('running', () => serving.controller.view('world').state.phase === 'running', 60_000);
    const console = await stream(admin);
    expect(console.status).toBe(200);
    await waitUntil('the game\'s "Done" line', () => console.lines().some((l) => l.kind === 'game' && l.text.includes('Done (')), 10_000);
    // OoD's own lines are there too, set apart by their kind.
    expect(console.lines().some((l) => l.kind === 'ood' && l.text.includes('→ running'))).toBe(true);

    appendFileSync(gameLog(), `${'A'.repeat(1_048_576)}\nafter the big line\n`);
    const after = await waitUntil('the line after the big one', () => {
      const at = console.lines().findIndex((l) => l.text === 'after the big line');
      return at >= 0 && at;
    }, 10_000);
    expect(after).toBeGreaterThan(0);
    const big = console.lines()[after - 1]!;
    expect(big.text.startsWith('AAAA')).toBe(true);
    expect(Buffer.byteLength(big.text)).toBeLessThanOrEqual(8_192 + 64);
    expect(big.text).toMatch(/cut/);
    expect(console.ended()).toBe(false);

    // A command still goes through, and its answer comes back.
    const list = await send(admin, 'list');
    expect(list.status).toBe(200);
    expect((JSON.parse(list.text) as { answer: string }).answer).toMatch(/There are 0 of a max of \d+ players online/);
    expect(serving.controller.store.audit.list(100).find((a) => a.action === 'console' && a.detail === 'list')).toMatchObject({ actor: LOCAL_ADMIN, server: 'world' });

    truncateSync(gameLog(), 0);
    // Past the follower's next look at the file, so it sees it shorter than it was.
    await new Promise((r) => setTimeout(r, 600));
    appendFileSync(gameLog(), 'after the truncation\n');
    await waitUntil('the line written after the truncation', () => console.lines().some((l) => l.text === 'after the truncation'), 10_000);
    expect(console.lines().some((l) => l.kind === 'ood' && /truncated/.test(l.text))).toBe(true);
    expect(console.ended()).toBe(false);

    // A form posted without JavaScript gets the console page with the answer under the command line.
    const page = await admin.post('/servers/world/console', { command: 'list' });
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/&gt; list\nThere are 0 of a max of \d+ players online/);

    // The page's own rendering of the last lines escapes what the game printed, like the stream's JSON.
    appendFileSync(gameLog(), '<script>alert(1)</script>\n');
    await waitUntil('the markup line', () => console.lines().some((l) => l.text === '<script>alert(1)</script>'), 10_000);
    const server = await admin.get('/servers/world');
    expect(server.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(server.text).not.toContain('<script>alert(1)');

    // The say is heard in the game's own log, through the same stream.
    expect((await send(admin, 'say still here')).status).toBe(200);
    await waitUntil('the say in the log', () => console.lines().some((l) => l.text.includes('[Server] still here')), 10_000);
  }, 120_000);

  it('ends the stream of a person whose console permission is taken away, at the next lines', async () => {
    const watcher = await person('test:watcher', ['console']);
    const console = await stream(watcher);
    expect(console.status).toBe(200);
    serving.controller.store.people.put('test:watcher', ['start'], 'test', Date.now());
    expect((await send(admin, 'say to the remaining readers')).status).toBe(200);
    await waitUntil('the stream to end', () => console.ended(), 10_000);
    expect(console.lines().some((l) => l.text.includes('to the remaining readers'))).toBe(false);
  }, 30_000);
});
