import type { VersionJson } from '../api/worlds-routes.js';
import { request } from 'node:http';
import type { CostJson } from '../api/cost-json.js';
import type { ServerJson } from '../api/server-json.js';
import type { SessionJson } from '../api/session-json.js';
import type { LogLineJson } from '../api/console-routes.js';
import { OodError } from '../errors.js';
import type { StackUpdate } from '../drivers/driver.js';

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

  private async call<T>(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<T> {
    let res: { status: number; statusText: string; text: string };
    try {
      res = await send(method, new URL(path, this.baseUrl), this.token, payload);
    } catch (err) {
      throw new ApiError(`Could not reach the OoD controller at ${this.baseUrl}: ${(err as Error).message}. Is \`ood serve\` running?`, null, true, { cause: err });
    }
    let body: T & { error?: string };
    try {
      body = JSON.parse(res.text) as T & { error?: string };
    } catch {
      body = {} as T & { error?: string }; // not JSON: the status line says what happened
    }
    if (res.status < 200 || res.status >= 300) {
      const hint = res.status === 401 ? ' (set OOD_ADMIN_TOKEN, or run this where the controller keeps its data)' : '';
      throw new ApiError(`${method} ${path} failed with ${res.status}: ${body.error ?? res.statusText}${hint}`, res.status, res.status >= 500);
    }
    return body;
  }

  servers = async () => (await this.call<{ servers: ServerJson[] }>('GET', '/api/servers')).servers;
  server = (id: string) => this.call<ServerJson>('GET', `/api/servers/${encodeURIComponent(id)}`);
  start = (id: string, options: { overrideBudget?: boolean } = {}) =>
    this.call<ServerJson>('POST', `/api/servers/${encodeURIComponent(id)}/start`, options.overrideBudget ? { override: true } : undefined);
  cost = () => this.call<CostJson>('GET', '/api/cost');
  stop = (id: string) => this.call<ServerJson>('POST', `/api/servers/${encodeURIComponent(id)}/stop`);
  loginLink = () => this.call<{ link: string; expiresAt: string }>('POST', '/api/login-link');
  keepAlive = (id: string) => this.call<ServerJson>('POST', `/api/servers/${encodeURIComponent(id)}/keepalive`);
  journal = async (id: string) => (await this.call<{ journal: JournalJson[] }>('GET', `/api/servers/${encodeURIComponent(id)}/journal`)).journal;
  /** The API answers `stackLoading` while Pulumi reads the stack (past 2 s): asked again each second, for a minute at most. */
  history = async (id: string) => {
    for (let tries = 1; ; tries++) {
      const answer = await this.call<{ sessions: SessionJson[]; since: JournalJson[]; stack: StackUpdate[] | null; stackLoading: boolean; journal: JournalJson[] }>('GET', `/api/servers/${encodeURIComponent(id)}/history`);
      if (!answer.stackLoading || tries >= 60) return answer;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
  orphans = () => this.call<{ checkedAt: string | null; orphans: { kind: string; server: string | null; dropletId: number; message: string; removed: boolean }[] }>('GET', '/api/orphans');
  adoptSnapshot = async (id: string, snapshot: string) =>
    (await this.call<{ adopted: { id: string; name: string } }>('POST', `/api/servers/${encodeURIComponent(id)}/snapshots/adopt`, { snapshot })).adopted;
  reloadConfig = () => this.call<{ applied: string[]; needsRestart: string[] }>('POST', '/api/config/reload');
  worlds = async (id: string) => (await this.call<{ versions: VersionJson[] }>('GET', `/api/servers/${encodeURIComponent(id)}/worlds`)).versions;
  restoreWorld = async (id: string, version: string) =>
    (await this.call<{ restored: VersionJson }>('POST', `/api/servers/${encodeURIComponent(id)}/worlds/${encodeURIComponent(version)}/restore`)).restored;
  archives = async (id: string) =>
    (await this.call<{ archives: { name: string; createdAt: string; bytes: number }[] }>('GET', `/api/servers/${encodeURIComponent(id)}/archives`)).archives;
  /** One console command (`ood console`); the game's answer, which may be empty (`say`). */
  consoleCommand = async (id: string, command: string) =>
    (await this.call<{ answer: string }>('POST', `/api/servers/${encodeURIComponent(id)}/console`, { command })).answer;
  /** The log's last lines (`ood logs` without -f); `ood logs -f` streams through log-stream.ts. */
  logs = async (id: string) => (await this.call<{ lines: LogLineJson[] }>('GET', `/api/servers/${encodeURIComponent(id)}/logs`)).lines;
}

/**
 * One HTTP request with node:http rather than fetch: a CLI call is one short request, and fetch's
 * first use loads undici and holds the process open about 150 ms after the answer (measured), a third
 * of `ood status`'s budget.
 */
function send(method: string, url: URL, token: string | undefined, body?: unknown): Promise<{ status: number; statusText: string; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request(url, { method, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
