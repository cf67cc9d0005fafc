/**
 * The DigitalOcean API client of OoD's test provider plugin: what godo does inside the real provider
 * (error texts, retries of go-retryablehttp), against whatever endpoint the environment names.
 */
export interface DoSettings {
  token: string;
  endpoint: string;
  /** Multiplies every wait of the real provider (10 s delays, 3 s polls, 60 s timeouts, backoff); 1 = real. */
  timeScale?: number;
}

export class DoRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'DoRequestError';
  }
}

const RETRY_MAX = 4;
const RETRY_WAIT_MIN_MS = 1000;
const RETRY_WAIT_MAX_MS = 30_000;
const PLUGIN_USER_AGENT = 'Terraform/1.5.7 terraform-provider-digitalocean/2.75.0 pulumi-digitalocean/4.57.0 (OoD test plugin) godo/1.172.0';

export class DoApi {
  readonly timeScale: number;

  constructor(private readonly settings: DoSettings) {
    this.timeScale = settings.timeScale ?? 1;
  }

  /** A wait of the real provider, scaled for tests. */
  scaled(ms: number): number {
    return Math.round(ms * this.timeScale);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, body);
      } catch (err) {
        if (!this.retryable(err) || attempt >= RETRY_MAX) throw err;
        await sleep(this.backoff(err, attempt));
      }
    }
  }

  /** go-retryablehttp's DefaultRetryPolicy, 4 times (godo's default): connection errors, 429, and 5xx but 501. */
  private retryable(err: unknown): boolean {
    if (!(err instanceof DoRequestError)) return true;
    return err.status === 0 || err.status === 429 || (err.status >= 500 && err.status !== 501);
  }

  /** DefaultBackoff: Retry-After on 429/503 when given, else 1 s doubling up to 30 s. */
  private backoff(err: unknown, attempt: number): number {
    if (err instanceof DoRequestError && err.retryAfter !== undefined && (err.status === 429 || err.status === 503)) return err.retryAfter * 1000;
    return this.scaled(Math.min(RETRY_WAIT_MIN_MS * 2 ** attempt, RETRY_WAIT_MAX_MS));
  }

  private async once<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.settings.endpoint.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.settings.token}`,
          'content-type': 'application/json',
          accept: 'application/json',
          // Lets a fake tell the provider's calls from OoD's own client, as the real provider's UA would.
          'user-agent': PLUGIN_USER_AGENT,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new DoRequestError(`${method} ${url}: ${(err as Error).message} (${String((err as { cause?: unknown }).cause ?? '')})`, 0);
    }
    const text = await res.text();
    if (!res.ok) {
      // godo's ErrorResponse.Error(): `METHOD URL: STATUS (request "ID") MESSAGE`; OoD's retry decision
      // reads only `: STATUS (`.
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? '';
      } catch (err) {
        message = `${message} [${(err as Error).message}]`;
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new DoRequestError(`${method} ${url}: ${res.status} (request "${res.headers.get('x-request-id') ?? ''}") ${message}`, res.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** DELETE that treats "already gone" as done, as the real provider does. */
  async remove(path: string): Promise<void> {
    try {
      await this.request('DELETE', path);
    } catch (err) {
      if (err instanceof DoRequestError && err.status === 404) return;
      throw err;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
}
