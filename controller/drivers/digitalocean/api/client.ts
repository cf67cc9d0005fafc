import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { DoActionError, DoApiError, DoTimeoutError } from './errors.js';
import { DoHttp, type DoHttpOptions, type DoResponse } from './http.js';
import {
  actionSchema,
  dropletSchema,
  firewallSchema,
  sshKeySchema,
  pageLinksSchema,
  sizeSchema,
  snapshotSchema,
  type Action,
  type Droplet,
  type DropletAction,
  type Firewall,
  type SshKey,
  type Size,
  type Snapshot,
} from './types.js';

export type DoClientOptions = DoHttpOptions;

/** DigitalOcean's largest page; fewer pages, fewer calls against the 250-per-minute limit. */
const PER_PAGE = 200;
/** A guard against a server that always says "next": 200 pages of 200 is far beyond any account. */
const MAX_PAGES = 200;

/**
 * The plain DigitalOcean API calls the driver makes beside Pulumi: droplets, actions, snapshots and
 * sizes. A thin typed `fetch` client (DESIGN.md: `@digitalocean/dots` is 71 MB and does not type-check).
 * Every answer is parsed at the boundary; a body without the documented shape is a `DoApiError`.
 */
export class DoClient {
  private readonly http: DoHttp;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: DoClientOptions) {
    this.http = new DoHttp(opts);
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
  }

  /** The droplet, or null when DigitalOcean does not know it (404). */
  async getDroplet(id: number): Promise<Droplet | null> {
    const res = await this.http.send({ method: 'GET', path: `/v2/droplets/${id}`, idempotent: true }, true);
    if (res.status === 404) return null;
    return this.parse(res, z.object({ droplet: dropletSchema })).droplet;
  }

  /** The account's SSH key with this fingerprint, or null (404). */
  async getSshKey(fingerprint: string): Promise<SshKey | null> {
    const res = await this.http.send({ method: 'GET', path: `/v2/account/keys/${encodeURIComponent(fingerprint)}`, idempotent: true }, true);
    if (res.status === 404) return null;
    return this.parse(res, z.object({ ssh_key: sshKeySchema })).ssh_key;
  }

  async listFirewalls(): Promise<Firewall[]> {
    return this.listAll('/v2/firewalls', {}, 'firewalls', firewallSchema);
  }

  async listDroplets(tag: string): Promise<Droplet[]> {
    return this.listAll('/v2/droplets', { tag_name: tag }, 'droplets', dropletSchema);
  }

  /** Starts an action; 201 with the action `in-progress`. Not retried on 5xx: see `DoRequest.idempotent`. */
  async dropletAction(id: number, action: DropletAction): Promise<Action> {
    const res = await this.http.send({ method: 'POST', path: `/v2/droplets/${id}/actions`, body: action, idempotent: false });
    return this.parse(res, z.object({ action: actionSchema })).action;
  }

  /** Every action of the droplet, newest first as DigitalOcean lists them. */
  async listDropletActions(id: number): Promise<Action[]> {
    return this.listAll(`/v2/droplets/${id}/actions`, {}, 'actions', actionSchema);
  }

  async getAction(id: number): Promise<Action> {
    const res = await this.http.send({ method: 'GET', path: `/v2/actions/${id}`, idempotent: true });
    return this.parse(res, z.object({ action: actionSchema })).action;
  }

  /**
   * Polls the action until it is `completed` (returned), `errored` (`DoActionError`, not retryable)
   * or the time is up (`DoTimeoutError`, retryable: the action may still finish). An aborted signal
   * rejects with its reason.
   */
  async waitForAction(id: number, opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal }): Promise<Action> {
    const pollMs = opts.pollMs ?? 3_000;
    const started = this.now();
    for (;;) {
      opts.signal?.throwIfAborted();
      const action = await this.getAction(id);
      if (action.status === 'completed') return action;
      if (action.status === 'errored') throw new DoActionError(action);
      const waited = this.now() - started;
      if (waited >= opts.timeoutMs) throw new DoTimeoutError(action, waited);
      await this.pause(Math.min(pollMs, opts.timeoutMs - waited), opts.signal);
    }
  }

  /** Every droplet snapshot of the account (any name; the caller filters by its prefix). */
  async listSnapshots(): Promise<Snapshot[]> {
    return this.listAll('/v2/snapshots', { resource_type: 'droplet' }, 'snapshots', snapshotSchema);
  }

  /** Deletes a snapshot; one already gone (404) counts as deleted. */
  async deleteSnapshot(id: string): Promise<void> {
    await this.http.send({ method: 'DELETE', path: `/v2/snapshots/${encodeURIComponent(id)}`, idempotent: true }, true);
  }

  /** Deletes a droplet; one already gone (404) counts as deleted. */
  async deleteDroplet(id: number): Promise<void> {
    await this.http.send({ method: 'DELETE', path: `/v2/droplets/${id}`, idempotent: true }, true);
  }

  async listSizes(): Promise<Size[]> {
    return this.listAll('/v2/sizes', {}, 'sizes', sizeSchema);
  }

  /**
   * Walks the pages by number while DigitalOcean says there is a next one. The `next` link itself is
   * not followed: it names DigitalOcean's own host, so with a local fake (or a hostile answer) the
   * token would go somewhere the caller did not choose.
   */
  private async listAll<T extends z.ZodType>(path: string, query: Record<string, string>, key: string, item: T): Promise<z.output<T>[]> {
    const out: z.output<T>[] = [];
    const schema = pageLinksSchema.extend({ [key]: z.array(item) });
    for (let page = 1; page <= MAX_PAGES; page++) {
      const res = await this.http.send({ method: 'GET', path, query: { ...query, page, per_page: PER_PAGE }, idempotent: true });
      const body = this.parse(res, schema) as z.output<typeof pageLinksSchema> & Record<string, z.output<T>[]>;
      const items = body[key] ?? [];
      out.push(...items);
      const total = body.meta?.total;
      if (!body.links?.pages?.next || items.length === 0 || (total !== undefined && out.length >= total)) return out;
    }
    throw new DoApiError({ call: `GET ${path}`, status: null, retryable: false, detail: `more than ${MAX_PAGES} pages; refusing to go on` });
  }

  /** Sleeps, but rejects with the signal's reason as soon as it is aborted. */
  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.sleep(ms);
    signal.throwIfAborted();
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.sleep(ms), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private parse<S extends z.ZodType>(res: DoResponse, schema: S): z.output<S> {
    const parsed = schema.safeParse(res.body);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
      .join('; ');
    throw new DoApiError(
      { call: res.call, status: res.status, retryable: false, detail: `the answer does not have the documented shape (${this.http.redact(issues)})` },
      { cause: parsed.error },
    );
  }
}
