/**
 * Faults a test switches on at any time. Counted faults (`rateLimit`, `serverErrors`,
 * `failDropletCreates`, `omitFromLists`) apply to the next n requests they match and then wear off.
 */
import { ApiError } from './api-error.js';

export type CreateFailure =
  /** POST /v2/droplets answers 422, as when a region has no capacity for the size. */
  | 'rejected'
  /** The droplet is made but its `create` action ends `errored` and the droplet is left `off`. */
  | 'errored';

export class Faults {
  /** `errored`: snapshot actions end `errored` and no snapshot appears. */
  snapshotActions: 'ok' | 'errored' = 'ok';
  /** The `shutdown` action stays in-progress forever and the droplet stays active; `power_off` still works. */
  shutdownNeverFinishes = false;
  /**
   * The `shutdown` action completes but the droplet stays active: DigitalOcean's shutdown is "best
   * effort" (github.com/digitalocean/api-v2/issues/79), so only the droplet's status tells.
   */
  shutdownIgnored = false;

  /** DELETE of a droplet answers 204 and leaves it as it was (a delete accepted that did not take). */
  deletesIgnored = false;

  private listsOmitting = 0;
  private listsOmittingTag: string | undefined;
  private rateLimited = 0;
  private retryAfterSeconds = 1;
  private errorsLeft = 0;
  private errorStatus = 500;
  private errorsMatch: ((method: string, path: string) => boolean) | undefined;
  private createFailures: CreateFailure[] = [];

  /** The next `n` requests get 429 with `retry-after: retryAfterSeconds`. */
  rateLimit(n: number, retryAfterSeconds = 1): void {
    this.rateLimited = n;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The next `n` requests (those `match` picks, default all) get `status` (500 by default; 502, 503 work too). */
  serverErrors(n: number, status = 500, match?: (method: string, path: string) => boolean): void {
    this.errorsLeft = n;
    this.errorStatus = status;
    this.errorsMatch = match;
  }

  /** The next `n` droplet creates fail the way `how` says. */
  failDropletCreates(n: number, how: CreateFailure = 'errored'): void {
    this.createFailures = Array.from({ length: n }, () => how);
  }

  /**
   * The next `n` droplet listings (GET /v2/droplets) leave every droplet out, as a listing that lags
   * behind a create does (only listings by `tag` when given); GET /v2/droplets/:id still finds them.
   */
  omitFromLists(n: number, tag?: string): void {
    this.listsOmitting = n;
    this.listsOmittingTag = tag;
  }

  /** Whether this listing (by `tag`, or null) leaves the droplets out (uses one count up). */
  takeListOmission(tag: string | null): boolean {
    if (this.listsOmitting <= 0 || (this.listsOmittingTag !== undefined && tag !== this.listsOmittingTag)) return false;
    this.listsOmitting--;
    return true;
  }

  /** Back to a healthy API. */
  reset(): void {
    this.snapshotActions = 'ok';
    this.shutdownNeverFinishes = false;
    this.shutdownIgnored = false;
    this.deletesIgnored = false;
    this.listsOmitting = 0;
    this.rateLimited = 0;
    this.errorsLeft = 0;
    this.createFailures = [];
  }

  /** The injected error for the request now being served, if any (uses one count up). */
  takeRequestFault(method = '', path = ''): ApiError | undefined {
    if (this.rateLimited > 0) {
      this.rateLimited--;
      return new ApiError(429, 'too_many_requests', 'API rate limit exceeded.', { 'retry-after': String(this.retryAfterSeconds) });
    }
    if (this.errorsLeft > 0 && (this.errorsMatch?.(method, path) ?? true)) {
      this.errorsLeft--;
      const id = this.errorStatus === 503 ? 'service_unavailable' : 'server_error';
      return new ApiError(this.errorStatus, id, 'Unexpected server-side error');
    }
    return undefined;
  }

  takeCreateFailure(): CreateFailure | undefined {
    return this.createFailures.shift();
  }
}
