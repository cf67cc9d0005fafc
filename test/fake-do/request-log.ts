/** The request log tests read, and the rate-limit headers every answer carries. */

export interface RequestRecord {
  method: string;
  /** The path without the query, e.g. `/v2/droplets/510000001/actions`. */
  path: string;
  query: Record<string, string>;
  /** The status the fake answered with (429 and 5xx from faults included). */
  status: number;
  /** When the request arrived, ms epoch. */
  at: number;
  /** The client's `user-agent` ('' when none), to tell OoD's own calls from the Pulumi provider's. */
  userAgent: string;
  /** The parsed JSON request body, when there was one. */
  body?: unknown;
}

/**
 * DigitalOcean's hourly budget (5,000 requests per token), reported in `ratelimit-*` headers. The fake
 * reports but does not enforce it; a test that wants 429s asks for them with `faults.rateLimit`.
 */
export class RateWindow {
  readonly limit = 5000;
  private start = Date.now();
  private used = 0;

  headers(rateLimited: boolean): Record<string, string> {
    const now = Date.now();
    if (now - this.start >= 3_600_000) {
      this.start = now;
      this.used = 0;
    }
    this.used++;
    return {
      'ratelimit-limit': String(this.limit),
      'ratelimit-remaining': String(rateLimited ? 0 : Math.max(0, this.limit - this.used)),
      'ratelimit-reset': String(Math.ceil((this.start + 3_600_000) / 1000)),
    };
  }
}
