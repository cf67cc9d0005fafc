import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { MAX_COMMAND_BYTES } from '../controller/console/command-check.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { BIN, ood } from './helpers/ood-cli.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { readmeCommands, REPO_ROOT } from './helpers/readme.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs } from './helpers/web-client.js';

/** `ood logs` and `ood console` against a running controller on the local driver (issue 21). */
describe('the console and the log from the ood CLI', () => {
  let home: OodHome;
  let serving: Serving;
  const cli = (args: string[], input?: string) => ood([...args, '--url', serving.url], { cwd: home.dir, env: { OOD_ADMIN_TOKEN: TEST_TOKEN }, timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
  const stamp = /^\[\d\d:\d\d:\d\d\] /;

  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('a command while the server is not running: exit 1 with the 409 in words, naming the line', async () => {
    const piped = await cli(['console', 'world'], 'list\n');
    expect(piped.code).toBe(1);
    expect(piped.stdout).toBe('');
    expect(piped.stderr).toContain('ood: line 1 (list) failed: POST /api/servers/world/console failed with 409: world is archived; the console takes commands only while it is running');
  });

  it('`ood logs` prints the recent lines and exits; `printf ... | ood console` prints the answers, audited from the CLI', async () => {
    expect((await apiFor(serving.url).start()).status).toBe(202);
    await waitUntil('world running', async () => (await apiFor(serving.url).server()).phase === 'running', 60_000);

    const logs = await cli(['logs', 'world']);
    expect(logs.code).toBe(0);
    const lines = logs.stdout.trimEnd().split('\n');
    expect(lines.every((line) => stamp.test(line))).toBe(true);
    // The game's own start line, and OoD's phase change set apart.
    expect(logs.stdout).toMatch(/^\[[\d:]+\] .*Done \(.*\)! Minecraft .* on port \d+$/m);
    expect(logs.stdout).toMatch(/^\[[\d:]+\] \[ood\] phase booting → running/m);

    const piped = await cli(['console', 'world'], 'list\nsay hi from the cli\n');
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    // `list` answers in vanilla's words; `say` answers nothing, so it prints nothing.
    expect(piped.stdout).toBe('There are 0 of a max of 20 players online: \n');
    const audit = serving.controller.store.audit.forServer('world').filter((a) => a.action === 'console');
    expect(audit.map((a) => [a.actor, a.source, a.detail])).toEqual(expect.arrayContaining([['admin-token', 'cli', 'list'], ['admin-token', 'cli', 'say hi from the cli']]));
    // What `say` did shows in the log, as the game printed it.
    await waitUntil('the say line in ood logs', async () => /\[Server\] hi from the cli$/m.test((await cli(['logs', 'world'])).stdout), 20_000, 250);
  });

  it('`ood logs -f` shows a line written after it started, and exits cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, 'logs', 'world', '-f', '--url', serving.url], { cwd: home.dir, env: { ...process.env, OOD_ADMIN_TOKEN: TEST_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntil('the backlog', () => /Done \(/.test(stdout), 30_000);
      const marker = `written after the follow began ${Date.now()}`;
      appendFileSync(join(home.hostDir(), '.ood-game.log'), `${marker}\n`);
      await waitUntil('the new line', () => stdout.includes(`] ${marker}\n`), 15_000);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
      expect(stdout.trimEnd().split('\n').every((line) => stamp.test(line))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a bad command (a control character, one byte too long) → exit 1 with the reason; the good lines are still answered', async () => {
    const long = `say ${'x'.repeat(MAX_COMMAND_BYTES - 3)}`;
    const piped = await cli(['console', 'world'], `say a\u0007b\n${long}\nlist\n`);
    expect(piped.code).toBe(1);
    expect(piped.stdout).toBe('There are 0 of a max of 20 players online: \n');
    expect(piped.stderr).toContain('ood: line 1 (say a\uFFFDb) failed: POST /api/servers/world/console failed with 400: the command has a control character (U+0007) at position 6; send one line of text');
    expect(piped.stderr).toContain(`ood: line 2 (say xxx`);
    expect(piped.stderr).toContain(`failed with 400: the command is ${MAX_COMMAND_BYTES + 1} bytes long; the game's console takes at most ${MAX_COMMAND_BYTES} bytes (UTF-8)`);
    expect(piped.stderr).toContain('ood: 2 of the commands to world failed');
  });

  it("README's console commands, run as written (the prompt on a real terminal, through script(1))", async () => {
    const commands = readmeCommands('./ood console world');
    expect(commands.map((c) => c.replace(/\s+#.*$/, ''))).toEqual(['./ood logs world', './ood logs world -f', "printf 'list\\nsay back in 5 minutes\\n' | ./ood console world", './ood console world']);
    const env = { ...process.env, OOD_CONFIG: home.configPath, OOD_ADMIN_TOKEN: TEST_TOKEN };
    const shell = (command: string) => spawn('bash', ['-c', `exec ${command}`], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const outcome = (child: ReturnType<typeof shell>) => {
      const seen = { stdout: '', stderr: '', code: undefined as number | null | undefined };
      child.stdout.on('data', (chunk: Buffer) => (seen.stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (seen.stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((seen.code = code))));
      return { seen, exited };
    };

    const [logs, follow, piped, prompt] = commands;
    const once = outcome(shell(logs!));
    expect(await once.exited).toBe(0);
    expect(once.seen.stdout).toMatch(/^\[[\d:]+\] \[ood\] phase booting → running/m);

    const followed = shell(follow!);
    const following = outcome(followed);
    try {
      await waitUntil('the follow to print the backlog', () => /Done \(/.test(following.seen.stdout), 30_000);
      followed.kill('SIGINT');
      expect(await following.exited).toBe(0);
    } finally {
      if (following.seen.code === undefined) followed.kill('SIGKILL');
    }

    const pipe = outcome(spawn('bash', ['-c', piped!], { cwd: REPO_ROOT, env }));
    expect(await pipe.exited).toBe(0);
    expect(pipe.seen.stdout).toBe('There are 0 of a max of 20 players online: \n');

    // A terminal: script(1) gives the command a pseudo-terminal, so stdin.isTTY is true and the prompt shows.
    const terminal = spawn('script', ['-qfec', prompt!, '/dev/null'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const atTerminal = outcome(terminal);
    try {
      await waitUntil('the prompt', () => atTerminal.seen.stdout.includes('world> '), 30_000);
      terminal.stdin.write('list\r');
      await waitUntil('the answer at the prompt', () => atTerminal.seen.stdout.includes('There are 0 of a max of 20 players online'), 15_000);
      // Up brings the last command back; Enter sends it again.
      terminal.stdin.write('\u001b[A\r');
      await waitUntil('the answer again', () => atTerminal.seen.stdout.split('There are 0 of a max').length === 3, 15_000);
      terminal.stdin.write('\u0004');
      expect(await atTerminal.exited).toBe(0);
    } finally {
      if (atTerminal.seen.code === undefined) terminal.kill('SIGKILL');
    }
    const audit = serving.controller.store.audit.forServer('world').filter((a) => a.action === 'console' && a.detail === 'list');
    expect(audit.length).toBeGreaterThanOrEqual(4);
  });

  it('a session without `console` gets 403 from the API console and log; with it, the command goes through', async () => {
    const now = Date.now();
    serving.controller.store.people.put('test:starter', ['start', 'stop'], 'test', now);
    serving.controller.store.people.put('test:operator', ['console'], 'test', now);
    const call = async (who: Awaited<ReturnType<typeof loginAs>>, method: string, path: string, body?: unknown) => {
      const res = await fetch(serving.url + path, {
        method,
        headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as { error?: string; answer?: string; lines?: unknown[] } };
    };

    const starter = await loginAs(serving, 'test:starter');
    const refused = await call(starter, 'POST', '/api/servers/world/console', { command: 'op starter' });
    expect(refused).toEqual({ status: 403, body: { error: `You may not use servers' consoles; ask an admin to give you "console".` } });
    for (const path of ['/api/servers/world/logs', '/api/servers/world/logs?follow=1', '/api/servers/world/LOGS/']) {
      expect((await call(starter, 'GET', path)).status, path).toBe(403);
    }
    expect(serving.controller.store.audit.forServer('world').some((a) => a.detail === 'op starter')).toBe(false);

    const operator = await loginAs(serving, 'test:operator');
    expect(await call(operator, 'POST', '/api/servers/world/console', { command: '/list' })).toEqual({ status: 200, body: { answer: 'There are 0 of a max of 20 players online: ' } });
    const read = await call(operator, 'GET', '/api/servers/world/logs');
    expect(read.status).toBe(200);
    expect(read.body.lines!.length).toBeGreaterThan(0);
    const row = serving.controller.store.audit.forServer('world').find((a) => a.actor === 'test:operator' && a.action === 'console');
    expect(row).toMatchObject({ detail: 'list', source: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/) });

    // The session's follow is rechecked before each batch: `console` taken away ends it, and the next line never arrives.
    const res = await fetch(`${serving.url}/api/servers/world/logs?follow=1`, { headers: { cookie: operator.cookie, accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = '';
    const pump = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += Buffer.from(value).toString();
      }
    })();
    await waitUntil('the backlog over the session', () => received.includes('event: line'), 10_000);
    serving.controller.store.people.put('test:operator', [], 'test', Date.now());
    const after = `after console was taken away ${Date.now()}`;
    appendFileSync(join(home.hostDir(), '.ood-game.log'), `${after}\n`);
    await pump;
    expect(received).not.toContain(after);
  });
});
