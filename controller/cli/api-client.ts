import type { ServerJson } from '../api/server-json.js';
import { OodError } from '../errors.js';

export class ApiError extends OodError {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface JournalJson {
  id: number;
  phase: string;
  step: string;
  intentAt: string;
  outcome: string | null;
  outcomeAt: string | null;
  detail: string | null;
  error: string | null;
}

/** The CLI's client of a running controller's HTTP API. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new ApiError(`Could not reach the OoD controller at ${this.baseUrl}: ${(err as Error).message}. Is \`ood serve\` running?`, null, true, { cause: err });
    }
    const body = (await res.json().catch(() => ({}))) as T & { error?: string };
    if (!res.ok) {
      const hint = res.status === 401 ? ' (set OOD_ADMIN_TOKEN, or run this where the controller keeps its data)' : '';
      throw new ApiError(`${method} ${path} failed with ${res.status}: ${body.error ?? res.statusText}${hint}`, res.status, res.status >= 500);
    }
    return body;
  }

  servers = async () => (await this.call<{ servers: ServerJson[] }>('GET', '/api/servers')).servers;
  server = (id: string) => this.call<ServerJson>('GET', `/api/servers/${encodeURIComponent(id)}`);
  start = (id: string) => this.call<ServerJson>('POST', `/api/servers/${encodeURIComponent(id)}/start`);
  stop = (id: string) => this.call<ServerJson>('POST', `/api/servers/${encodeURIComponent(id)}/stop`);
  keepAlive = (id: string) => this.call<ServerJson>('POST', `/api/servers/${encodeURIComponent(id)}/keepalive`);
  journal = async (id: string) => (await this.call<{ journal: JournalJson[] }>('GET', `/api/servers/${encodeURIComponent(id)}/journal`)).journal;
  archives = async (id: string) =>
    (await this.call<{ archives: { name: string; createdAt: string; bytes: number }[] }>('GET', `/api/servers/${encodeURIComponent(id)}/archives`)).archives;
}
