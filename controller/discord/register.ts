import { COMMAND_DEFINITIONS, type CommandDefinition } from './command-definitions.js';
import { DISCORD_USER_AGENT } from './user-agent.js';

/**
 * `ood discord register`: puts OoD's slash commands in place through Discord's HTTP API with the bot
 * token. It reads the scope's commands (to say what changes), then replaces them all with one bulk
 * overwrite (PUT), which is idempotent and leaves unchanged commands unchanged (they do not count
 * toward Discord's 200 creates a day per guild).
 * https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-guild-application-commands
 */

export interface RegisterOptions {
  /** Discord's API base, no trailing slash (OOD_DISCORD_API_URL; default https://discord.com/api/v10). */
  apiUrl: string;
  applicationId: string;
  /** Register in this guild (commands appear at once there); unset: globally. */
  guildId?: string | undefined;
  /** The bot token (OOD_DISCORD_BOT_TOKEN). It appears in no message this module makes. */
  token: string;
  commands?: readonly CommandDefinition[];
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Told when a 429 is being waited out. */
  say?: (line: string) => void;
}

export interface RegisterResult {
  /** `guild <id>` or `global`. */
  scope: string;
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
}

/** The one error of this boundary: what Discord answered, in words, never with the token. */
export class DiscordRegisterError extends Error {
  override name = 'DiscordRegisterError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A 429 asking for longer than this is not waited for: the command says so and stops. */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000;

interface ExistingCommand extends Record<string, unknown> {
  name: string;
  type?: number;
}

export async function registerCommands(o: RegisterOptions): Promise<RegisterResult> {
  const commands = o.commands ?? COMMAND_DEFINITIONS;
  const scope = o.guildId ? `guild ${o.guildId}` : 'global';
  const path = o.guildId ? `/applications/${o.applicationId}/guilds/${o.guildId}/commands` : `/applications/${o.applicationId}/commands`;
  const call = (method: 'GET' | 'PUT', body?: unknown) => request(o, method, path, body);

  const before = (await call('GET')) as ExistingCommand[];
  if (!Array.isArray(before)) throw new DiscordRegisterError(`Discord answered GET ${path} with something other than a list of commands`, 200, false);
  await call('PUT', commands);

  const result: RegisterResult = { scope, added: [], updated: [], removed: [], unchanged: [] };
  for (const wanted of commands) {
    const existing = before.find((c) => c.name === wanted.name && (c.type ?? 1) === wanted.type);
    if (!existing) result.added.push(wanted.name);
    else if (covers(wanted, existing)) result.unchanged.push(wanted.name);
    else result.updated.push(wanted.name);
  }
  for (const c of before) {
    if (!commands.some((wanted) => wanted.name === c.name && wanted.type === (c.type ?? 1))) result.removed.push(c.name);
  }
  return result;
}

/**
 * Whether Discord's copy says what we send. Discord answers with more than it was sent (ids, versions,
 * localizations) and leaves out fields at their defaults (`required: false`), so only the keys we
 * send are compared, and a key it left out matches a default value.
 */
export function covers(wanted: unknown, existing: unknown): boolean {
  if (Array.isArray(wanted)) {
    if (!Array.isArray(existing)) return existing === undefined && wanted.length === 0;
    return wanted.length === existing.length && wanted.every((w, i) => covers(w, existing[i]));
  }
  if (wanted !== null && typeof wanted === 'object') {
    if (existing === null || typeof existing !== 'object') return false;
    return Object.entries(wanted).every(([key, value]) => covers(value, (existing as Record<string, unknown>)[key]));
  }
  if (existing === undefined) return wanted === false || wanted === null;
  return wanted === existing;
}

async function request(o: RegisterOptions, method: 'GET' | 'PUT', path: string, body: unknown): Promise<unknown> {
  const doFetch = o.fetch ?? fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const scrub = (text: string) => (o.token ? text.split(o.token).join('<bot token>') : text);
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await doFetch(`${o.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bot ${o.token}`,
          'user-agent': DISCORD_USER_AGENT,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new DiscordRegisterError(scrub(`Could not reach Discord's API at ${o.apiUrl}: ${causeText(err)}`), undefined, true, { cause: err });
    }
    const text = await res.text();
    if (res.ok) return text === '' ? undefined : parseJson(text, `${method} ${path}`, scrub);
    if (res.status === 429 && attempt === 1) {
      const waitMs = retryAfterMs(res, text);
      if (waitMs <= MAX_RATE_LIMIT_WAIT_MS) {
        o.say?.(`Discord asked to wait ${(waitMs / 1000).toFixed(1)} s (429); waiting once`);
        await sleep(waitMs);
        continue;
      }
      throw new DiscordRegisterError(`Discord asked to wait ${Math.ceil(waitMs / 1000)} s (429), longer than ${MAX_RATE_LIMIT_WAIT_MS / 1000} s; try again later`, 429, true);
    }
    throw new DiscordRegisterError(scrub(refusal(o, method, path, res.status, text)), res.status, res.status === 429 || res.status >= 500);
  }
}

function refusal(o: RegisterOptions, method: string, path: string, status: number, text: string): string {
  const said = discordMessage(text);
  if (status === 401) return `Discord refused the bot token (401 ${said}): the bot token is wrong; copy it again from the application's Bot page into OOD_DISCORD_BOT_TOKEN`;
  if ((status === 403 || status === 404) && o.guildId) {
    return `Discord refused ${method} ${path} (${status} ${said}): the application ${o.applicationId} is not in guild ${o.guildId}, or the token is another application's; add the application to the guild with the scope applications.commands (OAuth2 URL Generator), and check discord.applicationId`;
  }
  if (status === 403 || status === 404) {
    return `Discord refused ${method} ${path} (${status} ${said}): the bot token is not application ${o.applicationId}'s; check discord.applicationId and OOD_DISCORD_BOT_TOKEN`;
  }
  if (status === 429) return `Discord rate-limited ${method} ${path} again after one wait (429 ${said}); try again later`;
  return `Discord answered ${method} ${path} with ${status}: ${said || '(no message)'}`;
}

/** Discord's error JSON is `{message, code, errors?}`; `errors` says which field of a 400 was wrong. */
function discordMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; code?: unknown; errors?: unknown };
    const parts = [typeof body.message === 'string' ? body.message : undefined, body.errors ? JSON.stringify(body.errors).slice(0, 600) : undefined];
    const joined = parts.filter(Boolean).join(': ');
    if (joined) return joined;
  } catch {
    // Not JSON (a proxy's page): a short piece of the text says more than nothing.
  }
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}

/** Discord's 429: `retry_after` in the JSON body (seconds, a float), else the Retry-After header (seconds). */
function retryAfterMs(res: Response, text: string): number {
  try {
    const body = JSON.parse(text) as { retry_after?: unknown };
    if (typeof body.retry_after === 'number' && body.retry_after >= 0) return Math.ceil(body.retry_after * 1000);
  } catch {
    // Not JSON: the header decides.
  }
  const header = Number(res.headers.get('retry-after'));
  return Number.isFinite(header) && header >= 0 ? Math.ceil(header * 1000) : 1000;
}

function parseJson(text: string, what: string, scrub: (text: string) => string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    // Scrubbed whole, then cut: a proxy's page may echo the request's Authorization header.
    throw new DiscordRegisterError(`Discord answered ${what} with a body that is not JSON: ${scrub(text).slice(0, 200)}`, 200, false, { cause: err });
  }
}

function causeText(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
}
