import { OodError } from '../../../errors.js';
import type { Action } from './types.js';

/**
 * A DigitalOcean API call that failed, naming the call (`GET /v2/droplets/123`) and DigitalOcean's own
 * error id, message and request id (quote it to DigitalOcean's support). `status` is null when no
 * answer arrived at all (connection refused, reset, timed out). The token is never part of it.
 *
 * `retryable`: 429, 5xx and no answer are; any other 4xx needs a person (a bad token, a wrong id),
 * and so does an answer that does not have the documented shape.
 */
export class DoApiError extends OodError {
  readonly retryable: boolean;
  readonly call: string;
  readonly status: number | null;
  /** DigitalOcean's error id, e.g. `unauthorized`, `not_found`, `too_many_requests`. */
  readonly id: string | null;
  readonly doMessage: string | null;
  readonly request_id: string | null;

  constructor(
    fields: { call: string; status: number | null; id?: string | null; message?: string | null; request_id?: string | null; retryable: boolean; detail?: string; baseUrl?: string },
    options?: { cause?: unknown },
  ) {
    super(describe(fields), options);
    this.call = fields.call;
    this.status = fields.status;
    this.id = fields.id ?? null;
    this.doMessage = fields.message ?? null;
    this.request_id = fields.request_id ?? null;
    this.retryable = fields.retryable;
  }
}

function describe(f: { call: string; status: number | null; id?: string | null; message?: string | null; request_id?: string | null; detail?: string; baseUrl?: string }): string {
  const what = f.status === null ? 'no answer' : [String(f.status), f.id].filter(Boolean).join(' ');
  const why = [f.message, f.detail].filter(Boolean).join('; ');
  const req = f.request_id ? ` (request ${f.request_id})` : '';
  const todo = whatToDo(f.status, f.baseUrl);
  return `DigitalOcean ${f.call} failed: ${what}${why ? `: ${why}` : ''}${req}${todo ? `. ${todo}` : ''}`;
}

/** The fix for the failures a person has to mend: an API out of reach, a token refused or too weak. */
function whatToDo(status: number | null, baseUrl: string | undefined): string | null {
  if (status === null) {
    return `DigitalOcean's API did not answer${baseUrl ? ` at ${baseUrl}` : ''}: check this machine's network and DNS, and DIGITALOCEAN_API_URL if it is set (unset, it is https://api.digitalocean.com)`;
  }
  if (status === 401) return 'DigitalOcean refused the token: create a read/write token in the DigitalOcean console (API → Tokens), set DIGITALOCEAN_TOKEN to it and restart `ood serve`';
  if (status === 403) return 'DigitalOcean does not let this token do that: give the token write scope (API → Tokens), set DIGITALOCEAN_TOKEN and restart `ood serve`';
  return null;
}

/** An action DigitalOcean reports as `errored`: doing it again blindly could lose data, so a person looks. */
export class DoActionError extends OodError {
  readonly retryable = false;
  constructor(readonly action: Action) {
    super(
      `DigitalOcean action ${action.id} (${action.type} on ${action.resource_type ?? 'droplet'} ${action.resource_id ?? '?'}) errored` +
        `${action.completed_at ? ` at ${action.completed_at}` : ''}; see the droplet's history in the DigitalOcean console before retrying`,
    );
  }
}

/** An action still `in-progress` when the wait ran out; it may yet complete, so waiting again is fine. */
export class DoTimeoutError extends OodError {
  readonly retryable = true;
  constructor(readonly action: Action, readonly waitedMs: number) {
    super(
      `DigitalOcean action ${action.id} (${action.type} on ${action.resource_type ?? 'droplet'} ${action.resource_id ?? '?'}) ` +
        `was still ${action.status} after ${Math.round(waitedMs / 1000)} s`,
    );
  }
}
