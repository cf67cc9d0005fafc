/**
 * A fake DigitalOcean API v2 on 127.0.0.1, in process: the part OoD, its Pulumi program and the tests
 * use, with DigitalOcean's JSON shapes (checked against the official OpenAPI description in
 * `openapi.test.ts`), delays, and faults a test can switch on. See README.md.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, badRequest, notFound } from './api-error.js';
import { REGIONS } from './catalog.js';
import { nowIso, type Ctx, type Settings } from './context.js';
import { Faults } from './faults.js';
import { Lifecycle } from './lifecycle.js';
import type { MachineBackend } from './machines.js';
import { RateWindow, type RequestRecord } from './request-log.js';
import { Router, type ApiResponse } from './router.js';
import { accountRoutes } from './routes/account.js';
import { actionRoutes } from './routes/actions.js';
import { domainRoutes } from './routes/domains.js';
import { dropletRoutes } from './routes/droplets.js';
import { firewallRoutes } from './routes/firewalls.js';
import { keyRoutes } from './routes/keys.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { tagRoutes } from './routes/tags.js';
import { FakeDoState, type Snapshot } from './state.js';
import { Tasks } from './tasks.js';

export type { RequestRecord } from './request-log.js';
export type { Faults, CreateFailure } from './faults.js';
export type { FakeDoState, Droplet, Snapshot, Action, SshKey, Firewall, DomainRecord } from './state.js';

export interface FakeDoOptions {
  /** The machines behind the droplets; without one, droplets live in memory only. */
  machines?: MachineBackend;
  /** The bearer token every request must carry (default `fake-token`); otherwise 401. */
  token?: string;
  /** A completed snapshot appears in listings only this long after its action completed (default 0). */
  snapshotListingDelayMs?: number;
  /** Actions stay in-progress at least this long (default 50). */
  actionDelayMs?: number;
  /** A new droplet stays `new` at least this long, and until the machine has booted (default 50). */
  dropletBootMs?: number;
  /** Droplets get `${ipBase}.N`, N from 2 up (default `127.0.1`). */
  ipBase?: string;
  /** Where snapshot archives go when there is a machine backend (default: a temp dir removed on close). */
  dataDir?: string;
  /** The domains that exist for DNS records; without it every domain is accepted. */
  domains?: string[];
}

export interface SeedSnapshot {
  name: string;
  /** The archive a machine backend restores a droplet from. */
  archive?: string;
  sizeGigabytes?: number;
  createdAt?: string;
  /** Default: every region, as if the image had been transferred everywhere. */
  regions?: string[];
  minDiskSize?: number;
  tags?: string[];
}

export interface FakeDo {
  /** `http://127.0.0.1:PORT`; clients append `/v2/...`. */
  url: string;
  token: string;
  requests: RequestRecord[];
  faults: Faults;
  state: FakeDoState;
  /** Errors of the fake itself in background work; a test may assert it stays empty. */
  backgroundErrors: Error[];
  /** Seeds a listed snapshot (e.g. the base image), as if an earlier image build had taken it. */
  addSnapshot(s: SeedSnapshot): Snapshot;
  close(): Promise<void>;
}

export async function startFakeDigitalOcean(opts: FakeDoOptions = {}): Promise<FakeDo> {
  const token = opts.token ?? 'fake-token';
  const ownDataDir = opts.machines && !opts.dataDir ? await mkdtemp(join(tmpdir(), 'fake-do-')) : undefined;
  const settings: Settings = {
    snapshotListingDelayMs: opts.snapshotListingDelayMs ?? 0,
    actionDelayMs: opts.actionDelayMs ?? 50,
    dropletBootMs: opts.dropletBootMs ?? 50,
    ipBase: opts.ipBase ?? '127.0.1',
    dataDir: opts.dataDir ?? ownDataDir,
  };
  const state = new FakeDoState();
  if (opts.domains) state.domains = new Set(opts.domains.map((d) => d.toLowerCase()));
  const tasks = new Tasks();
  let url = '';
  const base = { state, faults: new Faults(), tasks, machines: opts.machines, settings, baseUrl: () => url };
  const ctx: Ctx = { ...base, life: new Lifecycle(base) };
  const router = new Router();
  for (const routes of [dropletRoutes, actionRoutes, snapshotRoutes, accountRoutes, keyRoutes, firewallRoutes, domainRoutes, tagRoutes]) routes(router, ctx);
  const requests: RequestRecord[] = [];
  const rate = new RateWindow();

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const parsed = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const record: RequestRecord = { method, path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), status: 0, at, userAgent: req.headers['user-agent'] ?? '' };
    requests.push(record);
    let answer: ApiResponse;
    try {
      const text = await readBody(req);
      let body: unknown;
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw Object.assign(badRequest('error parsing request body'), { cause: err });
        }
        record.body = body;
      }
      const fault = ctx.faults.takeRequestFault(method, parsed.pathname);
      if (fault) throw fault;
      if (!/^Bearer\s+/i.test(req.headers.authorization ?? '') || req.headers.authorization?.replace(/^Bearer\s+/i, '') !== token) {
        throw new ApiError(401, 'unauthorized', 'Unable to authenticate you.');
      }
      const route = router.match(method, parsed.pathname);
      if (!route) throw notFound();
      answer = await route.handler({ method, path: parsed.pathname, params: route.params, query: parsed.searchParams, body });
    } catch (err) {
      answer = errorAnswer(err, tasks.errors);
    }
    record.status = answer.status;
    // The real API sends the JSON content type on 204s too (the description declares it for droplet deletes).
    const headers: Record<string, string> = { ...rate.headers(answer.status === 429), 'content-type': 'application/json; charset=utf-8', ...answer.headers };
    res.writeHead(answer.status, headers).end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      tasks.errors.push(new Error(`Fake DigitalOcean could not answer ${req.method} ${req.url}`, { cause: err }));
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    requests,
    faults: ctx.faults,
    state,
    backgroundErrors: tasks.errors,
    addSnapshot: (s) => {
      const snapshot: Snapshot = {
        id: state.nextImageId(),
        name: s.name,
        createdAt: s.createdAt ?? nowIso(),
        regions: s.regions ?? REGIONS.map((r) => r.slug),
        // The droplet the image build took it from, long gone.
        resourceId: state.nextDropletId(),
        minDiskSize: s.minDiskSize ?? 25,
        sizeGigabytes: s.sizeGigabytes ?? 1.5,
        tags: s.tags ?? [],
        ...(s.archive === undefined ? {} : { archive: s.archive }),
        listedAt: 0,
      };
      state.snapshots.set(snapshot.id, snapshot);
      return snapshot;
    },
    close: async () => {
      await tasks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      if (ownDataDir) await rm(ownDataDir, { recursive: true, force: true });
    },
  };
}

function errorAnswer(err: unknown, bugs: Error[]): ApiResponse {
  const requestId = randomUUID();
  if (err instanceof ApiError) {
    return { status: err.status, headers: err.headers, body: { id: err.id, message: err.message, request_id: requestId } };
  }
  // A bug in the fake: answer as DigitalOcean would, and keep it for the test to see.
  bugs.push(err instanceof Error ? err : new Error(String(err)));
  return { status: 500, body: { id: 'server_error', message: `Unexpected server-side error: ${(err as Error)?.message ?? String(err)}`, request_id: requestId } };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
