// A running game whose log a hostile player fills (issue 21): the game prints what players type, so
// its lines can be as long as the console keeps (8 KiB). What one read of the log costs must not grow
// with that: the stream's backlog and the page hold the newest 512 KiB, and the API's read must too.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { findHostProcesses, signalAll } from '../controller/drivers/local/processes.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs, type WebClient } from './helpers/web-client.js';

describe('the log of a running game filled with the longest lines', () => {
  let home: OodHome;
  let serving: Serving;
  let admin: WebClient;

  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    admin = await loginAs(serving, LOCAL_ADMIN);
    expect((await apiFor(serving.url).start()).status).toBe(202);
    await waitUntil('running', () => serving.controller.view('world').state.phase === 'running', 60_000);
  }, 90_000);
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it("shows no secret in the console: not the RCON password OoD gave the game, nor its session keys", async () => {
    const { readFileSync } = await import('node:fs');
    const password = /^rcon\.password=(.+)$/m.exec(readFileSync(join(home.hostDir(), 'server.properties'), 'utf8'))?.[1];
    expect(password?.length).toBeGreaterThan(8);
    const read = await admin.get('/api/servers/world/logs', { accept: 'application/json' });
    expect(read.status).toBe(200);
    expect(read.text).toContain('Done (');
    expect(read.text).not.toContain(password!);
    const page = await admin.get('/servers/world/console');
    expect(page.text).not.toContain(password!);
  }, 30_000);

  it("answers GET /api/servers/:id/logs with at most the backlog's 512 KiB, not the ring's 500 lines of 8 KiB", async () => {
    // Keep the hub following while the lines are written, as a console viewer would.
    const watching = serving.controller.logs('world').subscribe(() => {});
    try {
      await waitUntil('the hub to follow', () => serving.controller.logs('world').following, 10_000);
      const long = `<chat> ${'B'.repeat(8_000)}`;
      appendFileSync(join(home.hostDir(), '.ood-game.log'), `${Array.from({ length: 520 }, (_, i) => `${i} ${long}`).join('\n')}\nthe last line\n`);
      const last = () => serving.controller.logs('world').subscribe(() => {});
      await waitUntil('the last line in the ring', () => {
        const s = last();
        s.close();
        return s.backlog.some((l) => l.text === 'the last line');
      }, 10_000);

      const read = await admin.get('/api/servers/world/logs', { accept: 'application/json' });
      expect(read.status).toBe(200);
      const lines = (JSON.parse(read.text) as { lines: { text: string }[] }).lines;
      expect(lines.at(-1)?.text).toBe('the last line');
      // 500 lines of 8 KiB is 4 MiB a read, for any number of reads at once by one session.
      expect(Buffer.byteLength(read.text)).toBeLessThanOrEqual(600 * 1024);
    } finally {
      watching.close();
    }
  }, 60_000);

  it('gives back both in-flight places when the game never answers (a stopped process), so the console works again after', async () => {
    const send = (command: string) => admin.post('/servers/world/console', { command }, { headers: { accept: 'application/json' } });
    expect((await send('list')).status).toBe(200);
    const [pid] = await findHostProcesses(home.hostDir());
    signalAll([pid!], 'SIGSTOP');
    let statuses: number[];
    try {
      statuses = (await Promise.all([send('list'), send('list'), send('list')])).map((r) => r.status).sort();
    } finally {
      signalAll([pid!], 'SIGCONT');
    }
    // Two wait for the game and time out (502); the third finds both places taken (429).
    expect(statuses).toEqual([429, 502, 502]);
    await waitUntil('the console to answer again', async () => (await send('list')).status === 200, 15_000);
  }, 60_000);

  // Found by the attack: `stop` typed into the console ended the game behind the loop's back and the
  // loop, still wanting it up, started it again. It is refused now, naming Stop and `ood stop`.
  it('a stop typed into the console does not restart the server behind the person who typed it', async () => {
    const send = (command: string) => admin.post('/servers/world/console', { command }, { headers: { accept: 'application/json' } });
    await waitUntil('running', () => serving.controller.view('world').state.phase === 'running', 30_000);
    const answer = await send('stop');
    const phases = new Set<string>();
    const end = Date.now() + 8_000;
    while (Date.now() < end) {
      phases.add(serving.controller.view('world').state.phase);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(phases.has('booting'), `answer ${answer.status} ${answer.text}; phases ${[...phases].join(', ')}`).toBe(false);
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/ood stop <server>/);
  }, 60_000);
});
