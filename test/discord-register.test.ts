import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { discordKeys, startDiscordReceiver, type DiscordReceiver, type ReceivedRequest } from './helpers/discord.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';
import { readmeCommands, REPO_ROOT } from './helpers/readme.js';

// `ood discord register` against a local stand-in for Discord's API: the documented bulk-overwrite body
// on the scope's path with the bot token and Discord's User-Agent, what changed in words, a 429 waited
// out once, the refusals said plainly, and the token in no output.

const APP = '1234567890123456789';
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.Gx3k9a.bot-token-that-must-never-be-printed';

/** The body https://discord.com/developers/docs/interactions/application-commands documents, written out. */
const serverOption = { type: 3, name: 'server', required: false, autocomplete: true, max_length: 31 };
const DOCUMENTED_BODY = [
  {
    name: 'ood',
    type: 1,
    contexts: [0],
    integration_types: [0],
    options: [
      { type: 1, name: 'status' },
      { type: 1, name: 'start', options: [serverOption] },
      { type: 1, name: 'stop', options: [serverOption] },
      { type: 1, name: 'keepalive', options: [serverOption] },
    ],
  },
];

describe('ood discord register', () => {
  let home: OodHome;
  let receiver: DiscordReceiver;
  let guildConfig: string;
  const run = (args: string[], env: Record<string, string> = {}) =>
    ood(['discord', 'register', '--config', home.configPath, ...args], { env: { OOD_DISCORD_BOT_TOKEN: TOKEN, OOD_DISCORD_API_URL: receiver.apiUrl, ...env } });
  const calls = (from: number) => receiver.requests.slice(from).map((r) => `${r.method} ${r.path}`);
  const neverTheToken = (out: { stdout: string; stderr: string }) => {
    expect(out.stdout).not.toContain(TOKEN);
    expect(out.stderr).not.toContain(TOKEN);
    expect(out.stderr).not.toContain('Gx3k9a');
  };

  beforeAll(async () => {
    receiver = await startDiscordReceiver();
    home = await makeOodHome({ config: { discord: { applicationId: APP, publicKey: discordKeys().publicKeyHex.toUpperCase() } } });
    // A second config, the same but with a default guild.
    guildConfig = join(home.dir, 'with-guild.yaml');
  });
  afterAll(async () => {
    await receiver.close();
    await home.cleanup();
  });
  beforeEach(() => {
    receiver.commands.clear();
  });

  it('sends the documented body to the guild with the bot token; a second run changes nothing', async () => {
    const first = await run(['--guild', '42']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('Registered the commands in guild 42 (shown there at once):\n  added: ood\n');
    neverTheToken(first);
    const [get, put] = receiver.requests.slice(-2) as [ReceivedRequest, ReceivedRequest];
    expect([get.method, get.path, put.method, put.path]).toEqual(['GET', `/applications/${APP}/guilds/42/commands`, 'PUT', `/applications/${APP}/guilds/42/commands`]);
    for (const r of [get, put]) {
      expect(r.headers.authorization).toBe(`Bot ${TOKEN}`);
      expect(r.headers['user-agent']).toMatch(/^DiscordBot \(https:\/\/\S+, \d+\.\d+\.\d+\)$/);
    }
    expect(put.headers['content-type']).toBe('application/json');
    expect(put.body).toMatchObject(DOCUMENTED_BODY);
    const body = put.body as { description: string; options: { description: string; options?: { description: string }[] }[] }[];
    expect(body).toHaveLength(1);
    for (const d of [body[0]!.description, ...body[0]!.options.flatMap((o) => [o.description, ...(o.options ?? []).map((p) => p.description)])]) {
      expect(d.length).toBeGreaterThan(0);
      expect(d.length).toBeLessThanOrEqual(100);
    }

    const before = receiver.requests.length;
    const second = await run(['--guild', '42']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('Registered the commands in guild 42 (shown there at once):\n  unchanged: ood\n');
    expect(calls(before)).toEqual([`GET /applications/${APP}/guilds/42/commands`, `PUT /applications/${APP}/guilds/42/commands`]);
  });

  it('registers in discord.guildId by default, globally with --global, and names what it updated and removed', async () => {
    const loaded = parse(readFileSync(home.configPath, 'utf8')) as { discord: Record<string, string> };
    writeFileSync(guildConfig, stringify({ ...loaded, discord: { ...loaded.discord, guildId: '77' } }));
    const before = receiver.requests.length;
    const inGuild = await ood(['discord', 'register', '--config', guildConfig], { env: { OOD_DISCORD_BOT_TOKEN: TOKEN, OOD_DISCORD_API_URL: receiver.apiUrl } });
    expect(inGuild.stdout).toContain('in guild 77');
    expect(calls(before)).toEqual([`GET /applications/${APP}/guilds/77/commands`, `PUT /applications/${APP}/guilds/77/commands`]);

    // An older /ood (another description) and a command of someone else's in the global scope.
    receiver.commands.set('global', [
      { id: '1', name: 'ood', type: 1, description: 'an older description', options: [] },
      { id: '2', name: 'weather', type: 1, description: 'Not OoD' },
    ]);
    const global = await ood(['discord', 'register', '--config', guildConfig, '--global'], { env: { OOD_DISCORD_BOT_TOKEN: TOKEN, OOD_DISCORD_API_URL: receiver.apiUrl } });
    expect(global.code).toBe(0);
    expect(global.stdout).toBe('Registered the commands globally (clients may take a while to show changes):\n  updated: ood\n  removed: weather\n');
    expect(receiver.requests.at(-1)).toMatchObject({ method: 'PUT', path: `/applications/${APP}/commands` });
    expect(receiver.commands.get('global')?.map((c) => c.name)).toEqual(['ood']);
  });

  it("waits out one 429 for Discord's retry_after, then registers", async () => {
    receiver.rateLimitNext(1, 0.6);
    const before = receiver.requests.length;
    const started = Date.now();
    const out = await run(['--guild', '42']);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('Discord asked to wait 0.6 s (429); waiting once');
    expect(out.stdout).toContain('added: ood');
    const [limited, retried] = receiver.requests.slice(before) as [ReceivedRequest, ReceivedRequest];
    expect(retried.at - limited.at).toBeGreaterThanOrEqual(550);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(calls(before)).toEqual([`GET /applications/${APP}/guilds/42/commands`, `GET /applications/${APP}/guilds/42/commands`, `PUT /applications/${APP}/guilds/42/commands`]);

    // Twice in a row, or longer than a minute: it stops and says so.
    receiver.rateLimitNext(2, 0.1);
    const twice = await run(['--guild', '42']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('rate-limited GET');
    receiver.rateLimitNext(1, 3600);
    const long = await run(['--guild', '42']);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('Discord asked to wait 3600 s (429), longer than 60 s; try again later');
  });

  it('says the token is wrong on 401, names the guild on 403, and never prints the token', async () => {
    receiver.answerNext(1, { status: 401, body: { message: '401: Unauthorized', code: 0 } });
    const wrong = await run(['--guild', '42']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the bot token is wrong');
    neverTheToken(wrong);

    receiver.answerNext(1, { status: 403, body: { message: 'Missing Access', code: 50001 } });
    const notInGuild = await run(['--guild', '42']);
    expect(notInGuild.code).toBe(1);
    expect(notInGuild.stderr).toContain(`the application ${APP} is not in guild 42`);
    expect(notInGuild.stderr).toContain('applications.commands');

    // Even when Discord's answer quotes the token back, it is scrubbed.
    receiver.answerNext(1, { status: 400, body: { message: `Invalid Form Body for Bot ${TOKEN}`, code: 50035 } });
    const echoed = await run(['--guild', '42']);
    expect(echoed.code).toBe(1);
    expect(echoed.stderr).toContain('Invalid Form Body for Bot <bot token>');
    neverTheToken(echoed);
  });

  it('refuses without a token, without a discord block, or with both scopes, before calling Discord', async () => {
    const before = receiver.requests.length;
    const noToken = await run(['--guild', '42'], { OOD_DISCORD_BOT_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('OOD_DISCORD_BOT_TOKEN is not set');
    const both = await run(['--guild', '42', '--global']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--guild and --global exclude each other');
    const bare = join(home.dir, 'no-discord.yaml');
    writeFileSync(bare, stringify({ dataDir: './data', servers: [{ id: 'world', local: { template: './template' } }] }));
    const noBlock = await ood(['discord', 'register', '--config', bare], { env: { OOD_DISCORD_BOT_TOKEN: TOKEN, OOD_DISCORD_API_URL: receiver.apiUrl } });
    expect(noBlock.code).toBe(2);
    expect(noBlock.stderr).toContain('The config has no discord block');
    expect(receiver.requests.length).toBe(before);
  });

  it("README's register commands, run as written", async () => {
    const commands = readmeCommands('ood discord register');
    expect(commands).toEqual(['./ood discord register --guild 1234567890123456789', './ood discord register --global']);
    const env = { ...process.env, OOD_CONFIG: home.configPath, OOD_DISCORD_BOT_TOKEN: TOKEN, OOD_DISCORD_API_URL: receiver.apiUrl };
    const out: string[] = [];
    for (const command of commands) out.push((await promisify(execFile)('bash', ['-c', command], { cwd: REPO_ROOT, env, timeout: 60_000 })).stdout);
    expect(out[0]).toBe('Registered the commands in guild 1234567890123456789 (shown there at once):\n  added: ood\n');
    expect(out[1]).toBe('Registered the commands globally (clients may take a while to show changes):\n  added: ood\n');
    expect([...receiver.commands.keys()].sort()).toEqual(['global', 'guild:1234567890123456789']);
  });
});
