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

/** One question in flight: whose (the address key) and how to take it back for a newcomer. */
interface Check {
  readonly key: string;
  readonly evicted: AbortController;
}

/**
 * One listener's session checks: its base URL and time-out, and at most `maxInFlight` questions at
 * once, so a crowd of joins cannot pile up requests. When full, a join from an address asking fewer
 * takes the place of the newest question of the address asking the most, if that address asks at
 * least two more (the connection caps' fairness, connection-table.ts): a few addresses (four IPv4
 * ones, or four IPv6 /64s of one home) filling every slot with checks the session server is slow to
 * answer would otherwise turn every other player away. That player is told to try again; so is a
 * join that finds no one to displace. One call per join.
 */
export class SessionServer {
  private inFlight = 0;
  private readonly byKey = new Map<string, Set<Check>>();

  constructor(
    readonly baseUrl: string,
    readonly timeoutMs: number,
    readonly maxInFlight: number,
  ) {}

  /** `key`: the asking client's address key (net/address-key.ts), what fairness counts by. */
  async hasJoined(name: string, serverHash: string, signal?: AbortSignal, key = ''): Promise<ProvenAccount | null> {
    if (this.inFlight >= this.maxInFlight && !this.makeRoomFor(key)) throw this.busy();
    const check: Check = { key, evicted: new AbortController() };
    this.add(check);
    try {
      return await hasJoined(this.baseUrl, name, serverHash, { timeoutMs: this.timeoutMs, signal: signal ? AbortSignal.any([signal, check.evicted.signal]) : check.evicted.signal });
    } catch (err) {
      if (check.evicted.signal.aborted) throw this.busy();
      throw err;
    } finally {
      this.remove(check);
    }
  }

  private busy(): SessionServerError {
    return new SessionServerError(`${this.maxInFlight} joins are being verified already`, 'busy');
  }

  private add(check: Check): void {
    let set = this.byKey.get(check.key);
    if (!set) this.byKey.set(check.key, (set = new Set()));
    set.add(check);
    this.inFlight++;
  }

  /** Idempotent: an evicted check is removed at once, and again when its question ends. */
  private remove(check: Check): void {
    const set = this.byKey.get(check.key);
    if (!set?.delete(check)) return;
    if (set.size === 0) this.byKey.delete(check.key);
    this.inFlight--;
  }

  /** Takes back the newest question of the address asking the most, when it asks at least two more than `key`. */
  private makeRoomFor(key: string): boolean {
    const own = this.byKey.get(key)?.size ?? 0;
    let top: Set<Check> | undefined;
    for (const [other, set] of this.byKey) if (other !== key && set.size >= own + 2 && set.size > (top?.size ?? 0)) top = set;
    const victim = top ? [...top].at(-1) : undefined;
    if (!victim) return false;
    this.remove(victim);
    victim.evicted.abort();
    return true;
  }
}
