import { setTimeout as delay } from 'node:timers/promises';
import { DoApiError } from './errors.js';
import { errorBodySchema } from './types.js';

export const USER_AGENT = 'ood (Ore on Demand)';

export interface DoHttpOptions {
  /** `https://api.digitalocean.com`, or a local fake's address (`DIGITALOCEAN_API_URL`). */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Retries of one call after 429, 5xx or no answer (default 5); other 4xx are never retried. */
  maxRetries?: number;
  /** First backoff after a 5xx or no answer, doubled each time up to `maxBackoffMs` (default 500). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * The longest the client waits on its own for the rate limit (default 60 s). A longer `retry-after`
   * (the hourly limit) fails the call as retryable at once, so the reconcile loop backs off instead of
   * one step hanging for an hour.
   */
  maxRateLimitWaitMs?: number;
  /** One call's deadline for an answer (default 30 s). */
  requestTimeoutMs?: number;
  log?: (msg: string) => void;
  /** Called for every HTTP request actually sent (benchmarks count API calls with it). */
  onRequest?: (method: string, path: string) => void;
}

export interface DoRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  /**
   * Whether sending the request twice is harmless. A POST that got a 5xx or no answer may have been
   * done (two snapshots, say), so it is not retried here: the caller observes, then decides.
   * A 429 is retried always: DigitalOcean refused it before doing anything.
   */
  idempotent: boolean;
}

export interface DoResponse {
  status: number;
  /** The parsed JSON body, or null for 204 and empty bodies. */
  body: unknown;
  call: string;
}

/**
 * Sends DigitalOcean API requests with the token, honours the rate limit (`retry-after` on 429, and
 * `ratelimit-remaining: 0` until `ratelimit-reset`), retries 5xx and lost answers with exponential
 * backoff a bounded number of times, and turns every failure into a `DoApiError` naming the call.
 */
export class DoHttp {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly baseUrl: string;
  /** No request is sent before this time (epoch ms): what the last rate-limit headers said. */
  private blockedUntil = 0;

  constructor(private readonly opts: DoHttpOptions) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
    this.now = opts.now ?? Date.now;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  /** Answers with status < 400, and 404 when `allow404`; everything else throws `DoApiError`. */
  async send(req: DoRequest, allow404 = false): Promise<DoResponse> {
    const query = req.query ? `?${new URLSearchParams(Object.entries(req.query).map(([k, v]): [string, string] => [k, String(v)]))}` : '';
    const call = `${req.method} ${req.path}${query}`;
    const maxRetries = this.opts.maxRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      await this.waitForRateLimit(call);
      let res: Response;
      try {
        this.opts.onRequest?.(req.method, req.path);
        res = await this.fetch(`${this.baseUrl}${req.path}${query}`, {
          method: req.method,
          headers: {
            authorization: `Bearer ${this.opts.token}`,
            // Names OoD in DigitalOcean's logs (and tells its calls from the provider's in a request log).
            'user-agent': USER_AGENT,
            accept: 'application/json',
            ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
        });
      } catch (err) {
        const detail = this.redact(causeText(err));
        const error = new DoApiError({ call, status: null, retryable: true, detail, baseUrl: this.baseUrl }, { cause: err });
        if (!req.idempotent || attempt >= maxRetries) throw error;
        await this.backoff(call, attempt, detail);
        continue;
      }
      // A 429's own `retry-after` is the instruction to follow; its `ratelimit-remaining: 0` only says
      // this request was refused (the per-minute burst limit answers so too), not that the hour is spent.
      if (res.status !== 429) this.noteRateLimit(res.headers);
      if (res.status < 400 || (allow404 && res.status === 404)) {
        return { status: res.status, body: await this.readJson(res, call), call };
      }
      const error = await this.errorOf(res, call);
      if (!error.retryable || attempt >= maxRetries) throw error;
      if (res.status === 429) {
        // A 429 always says how long: wait exactly that (the next loop turn waits until blockedUntil).
        const seconds = Number(res.headers.get('retry-after'));
        const waitMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : this.backoffDelay(attempt);
        this.blockedUntil = this.now() + waitMs;
        this.opts.log?.(`Rate limited on ${call}; retrying in ${waitMs} ms`);
        continue;
      }
      if (!req.idempotent) throw error;
      await this.backoff(call, attempt, `${res.status}`);
    }
  }

  private async waitForRateLimit(call: string): Promise<void> {
    // Again after each sleep: a 429 answered to another request meanwhile may have moved the time on.
    for (let waitMs = this.blockedUntil - this.now(); waitMs > 0; waitMs = this.blockedUntil - this.now()) {
      await this.sleepForRateLimit(call, waitMs);
    }
  }

  private async sleepForRateLimit(call: string, waitMs: number): Promise<void> {
    if (waitMs > (this.opts.maxRateLimitWaitMs ?? 60_000)) {
      throw new DoApiError({
        call,
        status: 429,
        id: 'too_many_requests',
        retryable: true,
        detail: `not sent: DigitalOcean's rate limit resets in ${Math.ceil(waitMs / 1000)} s`,
      });
    }
    await this.sleep(waitMs);
  }

  /** `ratelimit-remaining: 0` means the next call would be refused: hold it until `ratelimit-reset`. */
  private noteRateLimit(headers: Headers): void {
    if (headers.get('ratelimit-remaining') !== '0') return;
    const reset = Number(headers.get('ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) this.blockedUntil = Math.max(this.blockedUntil, reset * 1000);
  }

  private backoffDelay(attempt: number): number {
    return Math.min((this.opts.backoffMs ?? 500) * 2 ** attempt, this.opts.maxBackoffMs ?? 10_000);
  }

  private async backoff(call: string, attempt: number, why: string): Promise<void> {
    const ms = this.backoffDelay(attempt);
    this.opts.log?.(`Retrying ${call} in ${ms} ms after ${why}`);
    await this.sleep(ms);
  }

  private async readJson(res: Response, call: string): Promise<unknown> {
    const text = await res.text();
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new DoApiError(
        { call, status: res.status, retryable: false, detail: `the answer is not JSON: ${this.redact(snippet(text))}` },
        { cause: err },
      );
    }
  }

  private async errorOf(res: Response, call: string): Promise<DoApiError> {
    const retryable = res.status === 429 || res.status >= 500;
    const text = await res.text().catch((err: unknown) => `(body unreadable: ${causeText(err)})`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined; // a proxy's HTML page, say: shown as a snippet below
    }
    const parsed = errorBodySchema.safeParse(json);
    if (parsed.success) {
      const { id, message, request_id } = parsed.data;
      return new DoApiError({ call, status: res.status, id, message: this.redact(message), request_id, retryable });
    }
    return new DoApiError({ call, status: res.status, retryable, detail: text.trim() ? this.redact(snippet(text)) : undefined });
  }

  /** The token never leaves in an error or a log, even if an answer echoes it. */
  redact(text: string): string {
    return this.opts.token ? text.split(this.opts.token).join('[token]') : text;
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** fetch's `TypeError: fetch failed` hides the reason (ECONNREFUSED, a timeout) in its cause. */
function causeText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
