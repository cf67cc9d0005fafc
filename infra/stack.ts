import { automation } from '@pulumi/pulumi';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isLocked, PulumiMissingError, PulumiStepError, scrub, stepError, type PulumiOperation } from './errors.js';

/**
 * OoD's Automation API wrapper: one stack `ood-<server>` in project `ood`, an inline program, the
 * DigitalOcean credentials in the CLI's environment only (`DIGITALOCEAN_TOKEN`, `DIGITALOCEAN_API_URL`,
 * which the provider reads as its defaults), never in stack config: a config value goes to the CLI on
 * its command line (`pulumi config set-all … --secret`), where every user of the machine sees it in
 * `ps`. Every update carries a message saying who and why, engine output goes to the logger at debug,
 * and no secret reaches a message.
 */
export interface StackOptions {
  server: string;
  program: automation.PulumiFn;
  /** Default backend `file://<dataDir>/pulumi`; the passphrase file and the project directory live here too. */
  dataDir: string;
  /** What the controller read: PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, DIGITALOCEAN_TOKEN, DIGITALOCEAN_API_URL. */
  env: Record<string, string | undefined>;
  /** Path of the `pulumi` binary (`pulumi.command` in ood.yaml); default: `pulumi` on PATH. */
  pulumiCommand?: string;
  log: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

export interface UpResult {
  outputs: Record<string, unknown>;
  summary: { result: string; resourceChanges: Record<string, number>; message: string; startTime: string; endTime: string | null };
}

export interface HistoryEntry {
  /** The file backend stores no version (the CLI prints 0): then entries are numbered oldest = 1. */
  version: number;
  kind: string;
  result: string;
  /** ISO 8601 times; `endTime` is null while an update is in progress. */
  startTime: string;
  endTime: string | null;
  message: string;
  resourceChanges: Record<string, number>;
}

/**
 * A create a killed update left in the state's `pending_operations`: the engine called the provider,
 * but never heard back, so the state does not know whether the resource exists, nor its id.
 */
export interface PendingCreate {
  urn: string;
  /** `digitalocean:index/droplet:Droplet`, … */
  type: string;
  /** The inputs the create was called with (secrets as the engine stored them). */
  inputs: Record<string, unknown>;
}

interface StateResource {
  urn: string;
  type: string;
  id?: string;
  custom?: boolean;
  delete?: boolean;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  [key: string]: unknown;
}

interface StateDeployment {
  resources?: StateResource[];
  pending_operations?: { resource: StateResource; type: string }[];
  [key: string]: unknown;
}

const PROJECT = 'ood';
const INSTALL_HINT =
  'install the Pulumi CLI (https://www.pulumi.com/docs/install/) or set `pulumi.command` in ood.yaml to its path';
const LOCK_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export class ServerStack {
  private constructor(
    private readonly stack: automation.Stack,
    private readonly opts: StackOptions,
    private readonly secrets: string[],
    /** The lock directory, only when the backend is our own (see `removeStaleLocks`). */
    private readonly ownLockDir: string | undefined,
  ) {}

  get name(): string {
    return this.stack.name;
  }

  static async open(opts: StackOptions): Promise<ServerStack> {
    const stackName = `ood-${opts.server}`;
    const command = await pulumiCommand(opts.pulumiCommand, opts.dataDir);
    const ownBackend = `file://${resolve(opts.dataDir, 'pulumi')}`;
    const backendUrl = opts.env.PULUMI_BACKEND_URL || ownBackend;
    if (backendUrl === ownBackend) await mkdir(resolve(opts.dataDir, 'pulumi'), { recursive: true });
    const passphrase = opts.env.PULUMI_CONFIG_PASSPHRASE ?? (await passphraseFile(opts.dataDir, stackName));
    const token = opts.env.DIGITALOCEAN_TOKEN;
    const secrets = [passphrase, token ?? ''].filter((s) => s.length >= 4);
    // A fixed project directory keeps Pulumi.<stack>.yaml between runs, so operators can run
    // `pulumi stack history --stack ood-<server>` there by hand.
    const workDir = resolve(opts.dataDir, 'pulumi-project');
    await writeProjectFile(workDir, backendUrl);
    const fail = (op: PulumiOperation, err: unknown): Error => stepError(stackName, op, err, secrets);
    let stack: automation.Stack;
    try {
      stack = await automation.LocalWorkspace.createOrSelectStack(
        { projectName: PROJECT, stackName, program: opts.program },
        {
          workDir,
          pulumiCommand: command,
          envVars: {
            PULUMI_BACKEND_URL: backendUrl,
            PULUMI_CONFIG_PASSPHRASE: passphrase,
            PULUMI_SKIP_UPDATE_CHECK: 'true',
            ...(token ? { DIGITALOCEAN_TOKEN: token } : {}),
            ...(opts.env.DIGITALOCEAN_API_URL ? { DIGITALOCEAN_API_URL: opts.env.DIGITALOCEAN_API_URL } : {}),
          },
        },
      );
    } catch (err) {
      throw fail('open', err);
    }
    const ownLockDir = backendUrl === ownBackend ? join(resolve(opts.dataDir, 'pulumi'), '.pulumi', 'locks', 'organization', PROJECT, stackName) : undefined;
    const server = new ServerStack(stack, opts, secrets, ownLockDir);
    try {
      // Config from an earlier OoD that kept the credentials there: a config value would win over the
      // environment, and a stale endpoint would outlive its variable.
      const stale = Object.keys(await stack.getAllConfig()).filter((k) => k === 'digitalocean:token' || k === 'digitalocean:apiEndpoint');
      if (stale.length > 0) await stack.removeAllConfig(stale);
    } catch (err) {
      throw fail('config', err);
    }
    return server;
  }

  async setConfig(values: Record<string, { value: string; secret?: boolean }>): Promise<void> {
    try {
      await this.stack.setAllConfig(values);
    } catch (err) {
      throw stepError(this.name, 'config', err, this.secrets);
    }
  }

  async up(message: string): Promise<UpResult> {
    const res = await this.withLockRetry('up', () =>
      this.stack.up({ message, onOutput: this.engineOutput, showSecrets: false }),
    );
    const s = res.summary;
    this.opts.log('info', `Updated stack ${this.name}: ${s.result} ${JSON.stringify(s.resourceChanges ?? {})}`);
    return {
      outputs: plainOutputs(res.outputs),
      summary: { result: s.result, resourceChanges: { ...(s.resourceChanges ?? {}) }, message: s.message, startTime: iso(s.startTime), endTime: s.endTime ? iso(s.endTime) : null },
    };
  }

  async destroy(message: string): Promise<void> {
    const res = await this.withLockRetry('destroy', () =>
      this.stack.destroy({ message, onOutput: this.engineOutput, showSecrets: false }),
    );
    this.opts.log('info', `Destroyed stack ${this.name}: ${res.summary.result} ${JSON.stringify(res.summary.resourceChanges ?? {})}`);
  }

  /**
   * Reads every resource of the state back from DigitalOcean (`pulumi refresh`): one deleted outside
   * OoD (a 404) leaves the state, so the next `up` makes it again instead of doing nothing.
   */
  async refresh(message: string): Promise<void> {
    const res = await this.withLockRetry('refresh', () => this.stack.refresh({ message, onOutput: this.engineOutput, showSecrets: false }));
    this.opts.log('info', `Refreshed stack ${this.name}: ${res.summary.result} ${JSON.stringify(res.summary.resourceChanges ?? {})}`);
  }

  async outputs(): Promise<Record<string, unknown>> {
    try {
      return plainOutputs(await this.stack.outputs());
    } catch (err) {
      throw stepError(this.name, 'outputs', err, this.secrets);
    }
  }

  /**
   * The droplet the stack's state records, or null. From the state's resources, not the outputs: an
   * update cut off by a kill has checkpointed the droplet it made but never set the stack's outputs.
   */
  async dropletId(): Promise<number | null> {
    let deployment: automation.Deployment;
    try {
      deployment = await this.stack.exportStack();
    } catch (err) {
      throw stepError(this.name, 'outputs', err, this.secrets);
    }
    const resources = ((deployment.deployment as { resources?: { type?: string; id?: string; delete?: boolean }[] } | undefined)?.resources ?? []);
    const droplet = resources.find((r) => r.type === 'digitalocean:index/droplet:Droplet' && !r.delete && r.id);
    const id = Number(droplet?.id);
    return Number.isInteger(id) && id > 0 ? id : null;
  }

  /**
   * What a killed update left pending. The real engine keeps going past pending creates on the next
   * `up`, and so would make a second droplet beside one that exists: they must be settled first.
   */
  async pendingCreates(): Promise<PendingCreate[]> {
    const deployment = await this.exportDeployment();
    return (deployment.pending_operations ?? [])
      .filter((op) => op.type === 'creating')
      .map((op) => ({ urn: op.resource.urn, type: op.resource.type, inputs: { ...(op.resource.inputs ?? {}) } }));
  }

  /**
   * Settles pending creates, as `pulumi refresh --import-pending-creates` would: one found in
   * DigitalOcean (`found[urn]` its id) joins the state with that id, then a refresh reads it back, so
   * the next `up` updates it instead of creating another; one found nowhere (`null`) is dropped, since
   * the create never took. A pending create not in `found` is left as it is.
   */
  async settlePendingCreates(found: Record<string, string | null>, message: string): Promise<void> {
    const exported = await this.exportRaw();
    const deployment = exported.deployment as StateDeployment;
    const pending = deployment.pending_operations ?? [];
    const adopted: StateResource[] = [];
    deployment.pending_operations = pending.filter((op) => {
      if (op.type !== 'creating' || !(op.resource.urn in found)) return true;
      const id = found[op.resource.urn];
      if (id) adopted.push({ ...op.resource, id, outputs: { ...(op.resource.inputs ?? {}) } });
      return false;
    });
    if (deployment.pending_operations.length === pending.length) return;
    // A resource goes after its dependencies in the state: the adopted ones (a droplet, its key) go
    // where the engine would have put them had the create finished, right after what exists now.
    deployment.resources = [...(deployment.resources ?? []), ...adopted];
    // Both take the stack's lock, which the killed update may have left behind: retried as an update is.
    await this.withLockRetry('refresh', () => this.stack.importStack(exported));
    if (adopted.length > 0) await this.withLockRetry('refresh', () => this.stack.refresh({ message, onOutput: this.engineOutput, showSecrets: false }));
    this.opts.log('info', `Settled ${pending.length - deployment.pending_operations.length} pending create(s) of stack ${this.name}: ${adopted.length} found and adopted`);
  }

  private async exportRaw(): Promise<automation.Deployment> {
    try {
      return await this.stack.exportStack();
    } catch (err) {
      throw stepError(this.name, 'outputs', err, this.secrets);
    }
  }

  private async exportDeployment(): Promise<StateDeployment> {
    return ((await this.exportRaw()).deployment ?? {}) as StateDeployment;
  }

  /** Newest first, secrets hidden (Automation shows them by default). */
  async history(): Promise<HistoryEntry[]> {
    let entries: automation.UpdateSummary[];
    try {
      entries = await this.stack.history(undefined, undefined, false);
    } catch (err) {
      throw stepError(this.name, 'history', err, this.secrets);
    }
    const numbered = entries.every((e) => !e.version);
    return entries.map((e, i) => ({
      version: numbered ? entries.length - i : e.version,
      kind: e.kind,
      result: e.result,
      startTime: iso(e.startTime),
      endTime: e.endTime ? iso(e.endTime) : null,
      message: e.message,
      resourceChanges: { ...(e.resourceChanges ?? {}) },
    }));
  }

  private readonly engineOutput = (chunk: string): void => {
    for (const line of chunk.split('\n')) {
      if (line.trim()) this.opts.log('debug', `[${this.name}] ${scrub(line, this.secrets)}`);
    }
  };

  /** A locked stack (another update running) is waited for with backoff, then reported as retryable. */
  private async withLockRetry<T>(op: 'up' | 'destroy' | 'refresh', run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        const locked = isLocked(err);
        const delay = LOCK_RETRY_DELAYS_MS[attempt];
        if (!locked || delay === undefined) throw stepError(this.name, op, err, this.secrets);
        const removed = await this.removeStaleLocks();
        this.opts.log('info', `Stack ${this.name} was locked by another update; ${removed > 0 ? `removed ${removed} stale lock(s) and retrying` : `retrying ${op} in ${delay} ms`}`);
        if (removed === 0) await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Removes locks left by a `pulumi` process of ours that no longer runs. Only for our own backend
   * (`<dataDir>/pulumi`): one controller runs per data dir (it holds an exclusive lock), so every
   * update there was started by this controller, on this host, in this PID namespace. A lock file
   * names its process (pid, hostname); if that process is gone it cannot be updating, and the lock
   * is stale. A reused pid looks alive and the lock is kept: the safe side. Other backends may be
   * shared with other machines, so their locks are never touched.
   */
  private async removeStaleLocks(): Promise<number> {
    if (!this.ownLockDir) return 0;
    let files: string[];
    try {
      files = (await readdir(this.ownLockDir)).filter((f) => f.endsWith('.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let removed = 0;
    for (const f of files) {
      const path = join(this.ownLockDir, f);
      let lock: { pid?: number; hostname?: string };
      try {
        lock = JSON.parse(await readFile(path, 'utf8')) as typeof lock;
      } catch (err) {
        // Mid-write or just released by its owner: not ours to judge now.
        this.opts.log('debug', `Could not read Pulumi lock ${path}: ${(err as Error).message}`);
        continue;
      }
      if (lock.hostname !== hostname() || typeof lock.pid !== 'number' || processAlive(lock.pid)) continue;
      // The file backend keeps the lock's attributes beside it.
      await Promise.all([rm(path, { force: true }), rm(`${path}.attrs`, { force: true })]);
      this.opts.log('warn', `Removed stale Pulumi lock of stack ${this.name} left by pid ${lock.pid}, which no longer runs`);
      removed++;
    }
    return removed;
  }
}

/** The CLI's version, or PulumiMissingError saying how to get one. */
export async function checkPulumiCli(command?: string, dataDir?: string): Promise<string> {
  const cmd = await pulumiCommand(command, dataDir);
  return cmd.version?.toString() ?? 'unknown';
}

/** `PulumiCommand.get` wants an install root holding `bin/pulumi`; any other path gets a symlink in one. */
async function pulumiCommand(command: string | undefined, dataDir: string | undefined): Promise<automation.PulumiCommand> {
  let root: string | undefined;
  if (command) {
    const abs = resolve(command);
    if (basename(abs) === 'pulumi' && basename(dirname(abs)) === 'bin') root = dirname(dirname(abs));
    else {
      if (!dataDir) throw new PulumiMissingError(`pulumi.command ${command} is not named <dir>/bin/pulumi; ${INSTALL_HINT}`);
      root = resolve(dataDir, 'pulumi-cli');
      await mkdir(join(root, 'bin'), { recursive: true });
      await rm(join(root, 'bin', 'pulumi'), { force: true });
      await symlink(abs, join(root, 'bin', 'pulumi'));
    }
  }
  try {
    return await automation.PulumiCommand.get(root ? { root } : undefined);
  } catch (err) {
    const detail = (err as Error).message.split('\n').find((l) => /ENOENT|EACCES|version|not found/i.test(l)) ?? (err as Error).message.split('\n')[0];
    throw new PulumiMissingError(`Could not run the Pulumi CLI (${command ?? 'pulumi on PATH'}): ${detail?.trim()}; ${INSTALL_HINT}`, { cause: err });
  }
}

/**
 * Pulumi.yaml naming the backend, so the CLI works by hand in that directory too. Written by rename
 * and only when it changed: every CLI call of every stack reads it, and Automation's own writer
 * truncates first.
 */
async function writeProjectFile(workDir: string, backendUrl: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const file = join(workDir, 'Pulumi.yaml');
  const content = `name: ${PROJECT}\nruntime: nodejs\nbackend:\n  url: ${JSON.stringify(backendUrl)}\n`;
  const current = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  if (current === content) return;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

/** Generated once (random, 0600) and reused: the state's secrets are encrypted with it. */
async function passphraseFile(dataDir: string, stackName: string): Promise<string> {
  const file = join(dataDir, 'pulumi-passphrase');
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await chmod(file, 0o600);
  const value = (await readFile(file, 'utf8')).trim();
  if (!value) throw new PulumiStepError(`The Pulumi passphrase file ${file} is empty; restore it from a backup (the stack's secrets need it)`, stackName, 'open', false);
  return value;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Automation parses history times into Dates; OoD passes them on as JSON strings. */
function iso(d: Date | string): string {
  return new Date(d).toISOString();
}

function plainOutputs(outputs: automation.OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
}
