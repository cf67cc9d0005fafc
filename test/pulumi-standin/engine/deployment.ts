import { randomUUID } from 'node:crypto';
import { DoApi, type DoSettings } from '../../pulumi/provider/do-api.js';
import { changedKeys, handlers } from '../providers/do-resources.js';
import type { PassphraseSecrets } from '../secrets.js';
import type { Deployment as DeploymentJson, PendingOperation, PropertyMap, ResourceState } from '../types.js';
import type { StackContext } from '../workspace.js';
import { compact, containsSecret, decryptSecrets, deepEqual, encryptSecrets, plain, plainMap, secret } from './properties.js';
import { dependentsFirst, isDefaultProvider } from './graph.js';
import type { Reporter, StepOp } from './reporter.js';

export interface Registration {
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  inputs: PropertyMap;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  provider: string;
  version: string;
  deleteBeforeReplace: boolean;
  /** Top-level inputs whose changes the engine ignores: the old value stays (resource option `ignoreChanges`). */
  ignoreChanges?: string[];
  additionalSecretOutputs: string[];
  createTimeoutMs?: number;
}

export const STANDIN_VERSION = '3.248.0';
const STACK_TYPE = 'pulumi:pulumi:Stack';

/**
 * One update or destroy: steps resources against the saved state and checkpoints after every step,
 * as the real engine does, so a crash mid-update leaves created resources recorded.
 */
export class Deployment {
  readonly changes: Record<string, number> = {};
  /** Live resources from the previous checkpoint that nothing has superseded or deleted yet. */
  private readonly old = new Map<string, ResourceState>();
  private readonly news = new Map<string, ResourceState>();
  /** Old halves of create-before-delete replacements (`delete: true`), deleted at the end. */
  private readonly pendingDeletes: ResourceState[] = [];
  private readonly pendingOps = new Set<PendingOperation>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly config: Record<string, { value: string; secret: boolean }>;
  private readonly secrets: PassphraseSecrets;
  canceled = false;
  /** Set by the first failed step; like the real engine, nothing more is stepped after it. */
  failed = false;
  private signalFailure: () => void = () => undefined;
  /** Resolves when a step fails: the program may never finish then (its dependents wait forever). */
  readonly firstFailure = new Promise<void>((resolve) => {
    this.signalFailure = resolve;
  });

  constructor(
    private readonly ctx: StackContext,
    private readonly report: Reporter,
  ) {
    this.secrets = ctx.secrets();
    this.config = ctx.config();
    const latest = ctx.backend.readCheckpoint(ctx.project, ctx.stack).checkpoint.latest;
    if (latest?.pending_operations?.length) {
      report.diag('warning', `Attempting to deploy or update resources with ${latest.pending_operations.length} pending operations from previous deployment; they are dropped: ${latest.pending_operations.map((p) => `${p.type} ${p.resource.urn}`).join(', ')}`);
    }
    for (const r of latest?.resources ?? []) {
      const state = { ...r, inputs: decryptSecrets(r.inputs, this.secrets) as PropertyMap, outputs: decryptSecrets(r.outputs, this.secrets) as PropertyMap };
      if (r.delete) this.pendingDeletes.push(state);
      else this.old.set(r.urn, state);
    }
  }

  get rootUrn(): string {
    return this.urnFor(STACK_TYPE, `${this.ctx.project}-${this.ctx.stack}`, '');
  }

  urnFor(type: string, name: string, parent: string): string {
    let qualified = type;
    const parentType = parent ? parent.split('::')[2] : undefined;
    if (parentType && parentType !== STACK_TYPE) qualified = `${parentType}$${type}`;
    return `urn:pulumi:${this.ctx.stack}::${this.ctx.project}::${qualified}::${name}`;
  }

  /** Tracks the step so the command can wait for it even after the program's connection died. */
  register(req: Registration): Promise<ResourceState> {
    if (this.canceled) return Promise.reject(new Error('the update was canceled'));
    if (this.failed) return Promise.reject(new Error('the update failed at an earlier step; no further resources are registered'));
    const p = this.step(req);
    this.inflight.add(p);
    const forget = (): void => {
      this.inflight.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  registerOutputs(urn: string, outputs: PropertyMap): void {
    const state = this.news.get(urn);
    if (!state) throw new Error(`RegisterResourceOutputs for unknown resource ${urn}`);
    state.outputs = outputs;
    this.checkpoint();
  }

  outputsOf(urn: string): PropertyMap | undefined {
    return this.news.get(urn)?.outputs ?? this.old.get(urn)?.outputs;
  }

  private async step(req: Registration): Promise<ResourceState> {
    const urn = this.urnFor(req.type, req.name, req.parent);
    if (this.news.has(urn)) throw new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`);
    const old = this.old.get(urn);
    // As the engine does with `ignoreChanges`: an ignored input keeps its old value, so it never diffs.
    if (old && req.ignoreChanges?.length) {
      req = { ...req, inputs: { ...req.inputs } };
      for (const key of req.ignoreChanges!) {
        if (key in old.inputs) req.inputs[key] = old.inputs[key]!;
        else delete req.inputs[key];
      }
    }
    const base: ResourceState = {
      urn,
      custom: req.custom,
      type: req.type,
      inputs: req.inputs,
      outputs: {},
      ...(req.parent ? { parent: req.parent } : {}),
      dependencies: req.dependencies,
      propertyDependencies: req.propertyDependencies,
      ...(req.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
    };
    if (!req.custom) {
      const state = { ...base, outputs: old?.outputs ?? {} };
      this.instant(old ? 'same' : 'create', state, old);
      return state;
    }
    if (req.type.startsWith('pulumi:providers:')) {
      const state = { ...base, id: old?.id ?? randomUUID(), outputs: req.inputs };
      this.instant(!old ? 'create' : deepEqual(old.inputs, req.inputs) ? 'same' : 'update', state, old);
      return state;
    }
    const handler = handlers[req.type];
    if (!handler) throw new Error(`resource type ${req.type} is not supported by the pulumi stand-in (only DigitalOcean SshKey, Droplet, Firewall, DnsRecord)`);
    const provider = req.provider || this.defaultProvider(req.type.split(':')[0] as string, req.version, req.parent);
    const withProvider: ResourceState = { ...base, provider };
    const api = new DoApi(this.doSettings(provider));
    const inputs = plainMap(req.inputs);
    const wrap = (outputs: PropertyMap): PropertyMap =>
      Object.fromEntries(
        Object.entries(outputs).map(([k, v]) => [k, containsSecret(req.inputs[k]) || req.additionalSecretOutputs.includes(k) ? secret(v) : v]),
      );
    const started = Date.now();
    const changed = old ? changedKeys(plainMap(old.inputs), inputs) : [];
    const op: StepOp = !old ? 'create' : changed.length === 0 ? 'same' : handler.replaceOnChanges(changed) ? 'replace' : 'update';
    this.report.stepStart(op, urn, req.type, old, withProvider);
    try {
      if (op === 'same' && old) {
        const state = { ...withProvider, id: old.id, outputs: old.outputs, created: old.created, modified: old.modified };
        this.done('same', state, old, 0);
        return state;
      }
      if (op === 'update' && old) {
        const outputs = await this.pending(withProvider, 'updating', () => handler.update(api, old.id as string, inputs, plainMap(old.inputs), plainMap(old.outputs)));
        const state = { ...withProvider, id: old.id, outputs: wrap(outputs), created: old.created, modified: new Date().toISOString() };
        this.done('update', state, old, Date.now() - started);
        return state;
      }
      if (op === 'replace' && old && req.deleteBeforeReplace) await this.deleteOne(old, false);
      const timeout = req.createTimeoutMs ?? 600_000;
      const created = await this.pending(withProvider, 'creating', () => handler.create(api, inputs, timeout));
      if (op === 'replace' && old && !req.deleteBeforeReplace) {
        // Create before delete, the engine's default: the old one is marked and deleted at the end.
        this.old.delete(urn);
        this.pendingDeletes.push({ ...old, delete: true });
      }
      const now = new Date().toISOString();
      const state = { ...withProvider, id: created.id, outputs: wrap(created.outputs), created: now, modified: now };
      this.done(op, state, old, Date.now() - started);
      return state;
    } catch (e) {
      this.fail(op, urn, req.type, e);
      throw e;
    }
  }

  private fail(op: StepOp, urn: string, type: string, e: unknown): void {
    this.report.stepFailed(op, urn, type, (e as Error).message);
    this.failed = true;
    this.signalFailure();
  }

  private async pending<T>(resource: ResourceState, type: PendingOperation['type'], run: () => Promise<T>): Promise<T> {
    const op: PendingOperation = { resource, type };
    this.pendingOps.add(op);
    this.checkpoint();
    try {
      return await run();
    } finally {
      this.pendingOps.delete(op);
      this.checkpoint();
    }
  }

  /** A step with no provider call (stack, components, provider resources). */
  private instant(op: StepOp, state: ResourceState, old: ResourceState | undefined): void {
    this.report.stepStart(op, state.urn, state.type, old, state);
    this.done(op, state, old, 0);
  }

  private done(op: StepOp, state: ResourceState, old: ResourceState | undefined, ms: number): void {
    this.news.set(state.urn, state);
    if (!isDefaultProvider(state.urn)) this.changes[op] = (this.changes[op] ?? 0) + 1;
    this.checkpoint();
    this.report.stepDone(op, state.urn, state.type, ms, old, state);
  }

  /** The engine makes a default provider per package and version, like `default_4_80_1`. */
  private defaultProvider(pkg: string, version: string, _parent: string): string {
    const type = `pulumi:providers:${pkg}`;
    const name = version ? `default_${version.replace(/[.-]/g, '_')}` : 'default';
    const urn = this.urnFor(type, name, '');
    let state = this.news.get(urn);
    if (!state) {
      const old = this.old.get(urn);
      const inputs = compact({ version: version || undefined });
      state = { urn, custom: true, type, id: old?.id ?? randomUUID(), inputs, outputs: inputs };
      this.instant(old ? 'same' : 'create', state, old);
    }
    return `${urn}::${state.id}`;
  }

  private doSettings(providerRef: string | undefined): DoSettings {
    const urn = providerRef?.split('::').slice(0, -1).join('::');
    const prov = urn ? (this.news.get(urn) ?? this.old.get(urn)) : undefined;
    const explicit = prov && !isDefaultProvider(prov.urn) ? plainMap(prov.inputs) : {};
    const env = this.ctx.env;
    const token = explicit.token ?? this.config['digitalocean:token']?.value ?? env.DIGITALOCEAN_TOKEN ?? env.DIGITALOCEAN_ACCESS_TOKEN;
    const endpoint = explicit.apiEndpoint ?? this.config['digitalocean:apiEndpoint']?.value ?? env.DIGITALOCEAN_API_URL ?? 'https://api.digitalocean.com';
    if (typeof token !== 'string' || token === '') {
      throw new Error('no DigitalOcean token: set the stack config digitalocean:token (secret) or DIGITALOCEAN_TOKEN');
    }
    return { token, endpoint: String(endpoint) };
  }

  /** After a successful program: delete what it no longer declares, and the replaced halves. */
  async deleteUnregistered(): Promise<void> {
    const doomed = [...this.pendingDeletes, ...[...this.old.values()].filter((r) => !this.news.has(r.urn))];
    for (const r of dependentsFirst(doomed)) await this.deleteOne(r, !r.delete);
  }

  /** `destroy`: everything in the state, dependents first, without running the program. */
  async destroyAll(): Promise<void> {
    const doomed = [...this.pendingDeletes, ...this.old.values()];
    for (const r of dependentsFirst(doomed)) await this.deleteOne(r, !r.delete);
  }

  private async deleteOne(r: ResourceState, count: boolean): Promise<void> {
    const started = Date.now();
    const op: StepOp = 'delete';
    this.report.stepStart(op, r.urn, r.type, r);
    const handler = handlers[r.type];
    try {
      if (r.custom && handler && r.id) {
        const api = new DoApi(this.doSettings(r.provider));
        await this.pending(r, 'deleting', () => handler.remove(api, r.id as string, plainMap(r.outputs)));
      }
    } catch (e) {
      this.fail(op, r.urn, r.type, e);
      throw e;
    }
    if (r.delete) this.pendingDeletes.splice(this.pendingDeletes.indexOf(r), 1);
    else this.old.delete(r.urn);
    if (count && !isDefaultProvider(r.urn)) this.changes.delete = (this.changes.delete ?? 0) + 1;
    this.checkpoint();
    this.report.stepDone(op, r.urn, r.type, Date.now() - started, r);
  }

  /** Written after every step: new resources in registration order, then the untouched old ones, then pending deletes. */
  checkpoint(): void {
    const untouched = [...this.old.values()].filter((r) => !this.news.has(r.urn));
    const encrypt = (r: ResourceState): ResourceState => ({
      ...r,
      inputs: encryptSecrets(r.inputs, this.secrets) as PropertyMap,
      outputs: encryptSecrets(r.outputs, this.secrets) as PropertyMap,
    });
    const latest: DeploymentJson = {
      manifest: { time: new Date().toISOString(), magic: 'pulumi-standin', version: `v${STANDIN_VERSION}` },
      secrets_providers: { type: 'passphrase', state: { salt: this.secrets.salt } },
      resources: [...this.news.values(), ...untouched, ...this.pendingDeletes].map(encrypt),
      ...(this.pendingOps.size > 0 ? { pending_operations: [...this.pendingOps].map((p) => ({ type: p.type, resource: encrypt(p.resource) })) } : {}),
    };
    this.ctx.backend.writeCheckpoint(this.ctx.project, this.ctx.stack, {
      version: 3,
      checkpoint: { stack: `organization/${this.ctx.project}/${this.ctx.stack}`, latest },
    });
  }

  stackOutputs(): PropertyMap {
    return plain(this.outputsOf(this.rootUrn) ?? {}) as PropertyMap;
  }
}
