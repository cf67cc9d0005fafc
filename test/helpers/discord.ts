import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './wait.js';

// Test stand-ins for Discord (issue 21): a real Ed25519 key pair, requests signed the way Discord signs
// interactions, interaction bodies shaped as Discord documents them, and a local HTTP server standing
// in for Discord's API (command registration and the interaction webhook's follow-up edits).
// Shapes: https://discord.com/developers/docs/interactions/receiving-and-responding (interaction object,
// security and authorization), .../application-commands (options, bulk overwrite), .../topics/rate-limits.

export interface DiscordKeys {
  /** The raw 32-byte public key as 64 lower-case hex: what the Developer Portal shows and `discord.publicKey` takes. */
  publicKeyHex: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function discordKeys(): DiscordKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The JWK's `x` is the raw key, base64url; Discord shows the same 32 bytes as hex.
  const x = publicKey.export({ format: 'jwk' }).x;
  if (!x) throw new Error('ed25519 public key exported without x');
  return { publicKeyHex: Buffer.from(x, 'base64url').toString('hex'), publicKey, privateKey };
}

export interface SignedHeaders {
  'X-Signature-Ed25519': string;
  'X-Signature-Timestamp': string;
}

/** Signs `timestamp + rawBody` as Discord does; the timestamp is unix seconds (default now). */
export function signInteraction(rawBody: string | Buffer, keys: DiscordKeys, opts: { timestamp?: number | string } = {}): SignedHeaders {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody;
  const signature = sign(null, Buffer.concat([Buffer.from(timestamp), body]), keys.privateKey).toString('hex');
  return { 'X-Signature-Ed25519': signature, 'X-Signature-Timestamp': timestamp };
}

export interface SignedPostOptions {
  timestamp?: number | string;
  /** Replace the computed headers (e.g. a signature from another key or another body). */
  headers?: Partial<SignedHeaders> & Record<string, string>;
  /** Sign this body but send `rawBody` instead (a tampered request). */
  signBody?: string;
}

export interface SignedPostResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON answer, or undefined when the body was not JSON. */
  json: unknown;
}

/** POSTs `body` (an object, JSON-encoded, or a raw string sent as is) signed with `keys`. */
export async function signedPost(url: string, body: unknown, keys: DiscordKeys, opts: SignedPostOptions = {}): Promise<SignedPostResult> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signed = signInteraction(opts.signBody ?? raw, keys, { timestamp: opts.timestamp });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)', ...signed, ...opts.headers },
    body: raw,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // Not JSON: the caller reads `text`.
  }
  return { status: res.status, headers: res.headers, text, json };
}

// ---- Interaction bodies ----

/** A Discord snowflake-like id: a decimal string of 18–19 digits. */
export function snowflake(): string {
  return (BigInt(Date.now() - 1_420_070_400_000) << 22n | BigInt(randomBytes(2).readUInt16BE() & 0x3fffff)).toString();
}

export const InteractionType = { PING: 1, APPLICATION_COMMAND: 2, MESSAGE_COMPONENT: 3, APPLICATION_COMMAND_AUTOCOMPLETE: 4 } as const;

export interface InteractionContext {
  applicationId: string;
  /** Defaults to a fresh snowflake; the interaction token is fresh too unless given. */
  id?: string;
  token?: string;
  guildId?: string;
  channelId?: string;
}

export interface Caller {
  /** The Discord user id: OoD's person is `discord:<userId>`. */
  userId: string;
  username?: string;
}

function base(ctx: InteractionContext, type: number, caller?: Caller): Record<string, unknown> {
  const guildId = ctx.guildId ?? '1100000000000000001';
  const user = caller && { id: caller.userId, username: caller.username ?? `user${caller.userId.slice(-4)}`, discriminator: '0', global_name: caller.username ?? null, avatar: null };
  return {
    id: ctx.id ?? snowflake(),
    application_id: ctx.applicationId,
    type,
    token: ctx.token ?? `aW50ZXJhY3Rpb246${randomBytes(24).toString('base64url')}`,
    version: 1,
    ...(type === InteractionType.PING
      ? {}
      : {
          guild_id: guildId,
          channel_id: ctx.channelId ?? '1100000000000000002',
          // In a guild the caller is `member.user`; `user` is only set in DMs.
          member: { user, roles: [], permissions: '2248473465835073', joined_at: '2024-01-01T00:00:00.000000+00:00', nick: null, deaf: false, mute: false, flags: 0 },
          app_permissions: '2248473465835073',
          locale: 'en-US',
          guild_locale: 'en-US',
          entitlements: [],
          authorizing_integration_owners: { '0': guildId },
          context: 0,
        }),
  };
}

export function pingBody(ctx: InteractionContext): Record<string, unknown> {
  return base(ctx, InteractionType.PING);
}

export type OodSubcommand = 'status' | 'start' | 'stop' | 'keepalive';

function commandData(sub: string, server: string | undefined, focused: boolean): Record<string, unknown> {
  const serverOption = server === undefined ? [] : [{ type: 3, name: 'server', value: server, ...(focused ? { focused: true } : {}) }];
  return { id: '1200000000000000001', name: 'ood', type: 1, options: [{ type: 1, name: sub, options: serverOption }] };
}

/** `/ood <sub> [server]` in a guild, by `caller`. */
export function commandBody(ctx: InteractionContext, caller: Caller, sub: OodSubcommand | string, server?: string): Record<string, unknown> {
  return { ...base(ctx, InteractionType.APPLICATION_COMMAND, caller), data: commandData(sub, server, false) };
}

/** A button press on the message `messageId` (the card an earlier interaction answered with). */
export function componentBody(ctx: InteractionContext, caller: Caller, customId: string, messageId: string): Record<string, unknown> {
  return {
    ...base(ctx, InteractionType.MESSAGE_COMPONENT, caller),
    data: { custom_id: customId, component_type: 2 },
    message: {
      id: messageId,
      channel_id: ctx.channelId ?? '1100000000000000002',
      type: 20,
      content: '',
      embeds: [],
      components: [],
      author: { id: ctx.applicationId, username: 'OoD', discriminator: '0', bot: true, avatar: null },
      timestamp: new Date().toISOString(),
      flags: 0,
    },
  };
}

/** The user typing `partial` into `/ood <sub> server:`; the `server` option is the focused one. */
export function autocompleteBody(ctx: InteractionContext, caller: Caller, sub: OodSubcommand | string, partial: string): Record<string, unknown> {
  return { ...base(ctx, InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE, caller), data: commandData(sub, partial, true) };
}

// ---- A stand-in for Discord's HTTP API ----

export interface ReceivedRequest {
  method: string;
  /** The path below the API's base (`/webhooks/<app>/<token>/messages/@original`), query included. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  at: number;
}

export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Hold the answer this long (a slow Discord). */
  delayMs?: number;
}

export interface DiscordReceiver {
  /** What OOD_DISCORD_API_URL takes: `http://127.0.0.1:<port>/api/v10`, no trailing slash. */
  apiUrl: string;
  requests: ReceivedRequest[];
  /** Registered commands per scope: key `global` or `guild:<id>`, as the last PUT left them (with ids). */
  commands: Map<string, Record<string, unknown>[]>;
  /** The next `count` requests get `answer` instead of the normal one. */
  answerNext(count: number, answer: ScriptedAnswer): void;
  /** The next `count` requests get Discord's 429: `Retry-After` header and `{message, retry_after, global:false}`. */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /** Resolves with the requests that match once at least `count` of them have arrived. */
  waitFor(what: string, match: (r: ReceivedRequest) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

const API_PREFIX = '/api/v10';

export async function startDiscordReceiver(): Promise<DiscordReceiver> {
  const requests: ReceivedRequest[] = [];
  const commands = new Map<string, Record<string, unknown>[]>();
  const script: ScriptedAnswer[] = [];
  let nextCommandId = 1300000000000000001n;

  const normal = (method: string, path: string, body: unknown): ScriptedAnswer => {
    const commandsPath = /^\/applications\/([^/]+)\/(?:guilds\/([^/]+)\/)?commands$/.exec(path);
    if (commandsPath) {
      const scope = commandsPath[2] ? `guild:${commandsPath[2]}` : 'global';
      if (method === 'GET') return { status: 200, body: commands.get(scope) ?? [] };
      if (method === 'PUT' && Array.isArray(body)) {
        // A bulk overwrite keeps the id of a command with the same name, as Discord does.
        const before = commands.get(scope) ?? [];
        const after = (body as Record<string, unknown>[]).map((c) => ({
          ...c,
          id: (before.find((b) => b.name === c.name)?.id as string | undefined) ?? String(nextCommandId++),
          application_id: commandsPath[1],
          ...(commandsPath[2] ? { guild_id: commandsPath[2] } : {}),
          version: String(nextCommandId++),
        }));
        commands.set(scope, after);
        return { status: 200, body: after };
      }
    }
    const webhook = /^\/webhooks\/([^/]+)\/([^/]+)(\/messages\/([^/?]+))?/.exec(path);
    if (webhook && (method === 'PATCH' || method === 'POST')) {
      return { status: 200, body: { id: webhook[4] === '@original' || !webhook[4] ? snowflake() : webhook[4], type: 20, ...(body as object) } };
    }
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let body: unknown = text === '' ? undefined : text;
      try {
        if (text !== '') body = JSON.parse(text);
      } catch {
        // Not JSON: kept as the raw text.
      }
      const url = req.url ?? '/';
      const path = url.startsWith(API_PREFIX) ? url.slice(API_PREFIX.length) : url;
      const method = req.method ?? 'GET';
      requests.push({ method, path, headers: req.headers, body, at: Date.now() });
      const answer = script.shift() ?? normal(method, path.split('?')[0] ?? path, body);
      const send = (): void => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${API_PREFIX}`;

  return {
    apiUrl,
    requests,
    commands,
    answerNext(count, answer) {
      for (let i = 0; i < count; i++) script.push(answer);
    },
    rateLimitNext(count, retryAfterSeconds) {
      for (let i = 0; i < count; i++) {
        script.push({
          status: 429,
          headers: { 'retry-after': String(Math.ceil(retryAfterSeconds)), 'x-ratelimit-scope': 'user' },
          body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
        });
      }
    },
    waitFor: (what, match, count = 1, timeoutMs = 30_000) =>
      waitUntil(what, () => {
        const found = requests.filter(match);
        return found.length >= count && found;
      }, timeoutMs),
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
