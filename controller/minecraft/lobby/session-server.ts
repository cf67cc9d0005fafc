import { OodError } from '../../errors.js';
import type { ProvenAccount } from './types.js';

/**
 * Mojang's session server, as a Minecraft server asks it whether a player really joined:
 * `GET <base>/session/minecraft/hasJoined?username=<name>&serverId=<server hash>`. 200 with the
 * profile: the account is proven. 204 (or an empty body): that account did not join with this hash.
 * https://minecraft.wiki/w/Mojang_API#Verify_login_session_on_server
 */

/**
 * The session server gave no usable answer (a time-out, a network error, an answer of the wrong
 * shape, or too many checks in flight). Never read as "proven": the join is turned away with `message`.
 */
export class SessionServerError extends OodError {
  readonly retryable = true;
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'answer' | 'busy',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface HasJoinedOptions {
  timeoutMs: number;
  /** Aborted when the player goes away: the question is dropped. */
  signal?: AbortSignal;
}

/** Whether `name` joined with `serverHash`: the account, or null when the session server says it did not. */
export async function hasJoined(baseUrl: string, name: string, serverHash: string, options: HasJoinedOptions): Promise<ProvenAccount | null> {
  const url = `${baseUrl.replace(/\/+$/, '')}/session/minecraft/hasJoined?username=${encodeURIComponent(name)}&serverId=${encodeURIComponent(serverHash)}`;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let body: string;
  let status: number;
  try {
    const response = await fetch(url, { signal, headers: { accept: 'application/json' }, redirect: 'error' });
    status = response.status;
    body = await boundedText(response, MAX_ANSWER_BYTES);
  } catch (err) {
    if (err instanceof SessionServerError) throw err;
    if (timeout.aborted) throw new SessionServerError(`The session server did not answer within ${options.timeoutMs} ms`, 'timeout', { cause: err });
    throw new SessionServerError(`The session server could not be reached: ${err instanceof Error ? err.message : String(err)}`, 'network', { cause: err });
  }
  if (status === 204 || (status === 200 && body.trim() === '')) return null;
  if (status !== 200) throw new SessionServerError(`The session server answered HTTP ${status}`, 'answer');
  return provenAccount(body);
}

/**
 * The most of an answer read: a profile with its skin and cape properties is a few kilobytes, and up
 * to maxInFlight checks run at once, so an endless body (a portal, a broken mirror) must not be buffered.
 */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The body as text, or SessionServerError('answer') as soon as it is longer than `max` bytes (the rest is not read). */
async function boundedText(response: Response, max: number): Promise<string> {
  const tooLong = () => new SessionServerError(`The session server's answer is longer than ${max} bytes`, 'answer');
  if (Number(response.headers.get('content-length') ?? 0) > max) {
    await response.body?.cancel();
    throw tooLong();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > max) {
      await reader.cancel();
      throw tooLong();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const UUID_HEX = /^[0-9a-f]{32}$/i;
const PLAYER_NAME = /^[\x21-\x7e]{1,16}$/;

/** The documented answer, checked: `{ id: 32 hex, name, properties: [{ name, value, signature? }] }`. */
export function provenAccount(body: string): ProvenAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new SessionServerError('The session server answered something that is not JSON', 'answer', { cause: err });
  }
  const answer = parsed as { id?: unknown; name?: unknown; properties?: unknown };
  if (typeof answer !== 'object' || answer === null) throw new SessionServerError('The session server answered something that is not a profile', 'answer');
  if (typeof answer.id !== 'string' || !UUID_HEX.test(answer.id)) throw new SessionServerError("The session server's profile has no valid id", 'answer');
  if (typeof answer.name !== 'string' || !PLAYER_NAME.test(answer.name)) throw new SessionServerError("The session server's profile has no valid name", 'answer');
  const properties = answer.properties ?? [];
  if (!Array.isArray(properties)) throw new SessionServerError("The session server's profile properties are not a list", 'answer');
  const checked: ProvenAccount['properties'] = properties.map((p: unknown) => {
    const property = p as { name?: unknown; value?: unknown; signature?: unknown };
    if (typeof property !== 'object' || property === null || typeof property.name !== 'string' || typeof property.value !== 'string' || (property.signature !== undefined && typeof property.signature !== 'string')) {
      throw new SessionServerError("The session server's profile has a malformed property", 'answer');
    }
    return { name: property.name, value: property.value, ...(property.signature !== undefined ? { signature: property.signature } : {}) };
  });
  return { id: answer.id.toLowerCase(), name: answer.name, properties: checked };
}

/**
 * One listener's session checks: its base URL and time-out, and at most `maxInFlight` questions at
 * once, so a crowd of joins (or one address's eight) cannot pile up requests; past that a join is
 * told to try again. One call per join.
 */
export class SessionServer {
  private inFlight = 0;

  constructor(
    readonly baseUrl: string,
    readonly timeoutMs: number,
    readonly maxInFlight: number,
  ) {}

  async hasJoined(name: string, serverHash: string, signal?: AbortSignal): Promise<ProvenAccount | null> {
    if (this.inFlight >= this.maxInFlight) throw new SessionServerError(`${this.maxInFlight} joins are being verified already`, 'busy');
    this.inFlight++;
    try {
      return await hasJoined(this.baseUrl, name, serverHash, { timeoutMs: this.timeoutMs, ...(signal ? { signal } : {}) });
    } finally {
      this.inFlight--;
    }
  }
}
