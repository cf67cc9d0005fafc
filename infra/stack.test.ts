import * as digitalocean from '@pulumi/digitalocean';
import * as pulumi from '@pulumi/pulumi';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sshKeyPair } from '../controller/drivers/digitalocean/keys.js';
import { startFakeDigitalOcean, type FakeDo } from '../test/fake-do/server.js';
import { applyEnv, realPulumiBinDir, realPulumiEnv, runPulumi } from '../test/helpers/real-pulumi.js';
import { PulumiMissingError, PulumiStepError } from './errors.js';
import { serverProgram, type ServerSpec } from './program.js';
import { checkPulumiCli, ServerStack, type StackOptions } from './stack.js';

// ServerStack, the Automation calls the controller makes, run by the real `pulumi` CLI (built by
// test/pulumi/build.sh) with OoD's DigitalOcean provider plugin (test/pulumi/provider/) against the
// fake DigitalOcean API, down to the HTTP requests the provider sends. OoD's own program on the real
// engine (DNS, ignoreChanges on the image, refresh, graceful destroy) is in test/pulumi/provider.test.ts.
const TOKEN = 'do-token-3f9a1c77e2b54d0e';
const SCALE = 0.05; // of the real provider's waits (10 s before polling a new droplet, 3 s polls)
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBp3eUqkqz0WcLx5D1Hq9Y1Yt3xJm2bq7m6b4Qm7s0yX ood-t';
const USER_DATA = '#cloud-config\nssh_keys:\n  ed25519_private: PRIVATE-HOST-KEY\n';
const CHILD = fileURLToPath(new URL('../test/helpers/stack-up-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

let fake: FakeDo;
let dataDir: string;
let bin: string;
let restoreEnv: () => void = () => undefined;
let child: ChildProcess | undefined;
const logs: string[] = [];

/** A small program of the real one's shape: SSH key, droplet from `ood:image` (no ignoreChanges), firewall on it. */
function program(opts: { throws?: string } = {}): StackOptions['program'] {
  return async () => {
    if (opts.throws) throw new Error(opts.throws);
    const image = new pulumi.Config('ood').require('image');
    const key = new digitalocean.SshKey('ood-t', { name: 'ood-t', publicKey: PUBLIC_KEY });
    const droplet = new digitalocean.Droplet('ood-t', {
      name: 'ood-t',
      region: 'ams3',
      size: 's-1vcpu-1gb',
      image,
      sshKeys: [key.id],
      userData: pulumi.secret(USER_DATA),
      tags: ['ood', 'ood-t'],
      monitoring: true,
      gracefulShutdown: true,
    });
    new digitalocean.Firewall('ood-t', {
      name: 'ood-t',
      dropletIds: [droplet.id.apply(Number)],
      inboundRules: [
        { protocol: 'tcp', portRange: '25565', sourceAddresses: ['0.0.0.0/0', '::/0'] },
        { protocol: 'tcp', portRange: '22', sourceAddresses: ['127.0.0.1/32'] },
      ],
      outboundRules: [{ protocol: 'tcp', portRange: '1-65535', destinationAddresses: ['0.0.0.0/0'] }],
    });
    return { dropletId: droplet.id, ipv4: droplet.ipv4Address };
  };
}

function options(overrides: Partial<StackOptions> = {}): StackOptions {
  return {
    server: 't',
    program: program(),
    dataDir,
    // The token reaches the CLI and the provider only through this: the test process has none.
    env: { DIGITALOCEAN_TOKEN: TOKEN, DIGITALOCEAN_API_URL: fake.url },
    pulumiCommand: join(bin, 'pulumi'),
    log: (level, msg) => logs.push(`${level} ${msg}`),
    ...overrides,
  };
}

const writes = (from: number): { method: string; path: string; body?: unknown }[] =>
  fake.requests.slice(from).filter((r) => r.method !== 'GET');
const calls = (from: number): string[] => writes(from).map((r) => `${r.method} ${r.path}`);

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends `signal` (0: only asks) to a process, or with a negative pid to a process group; false when none is left. */
function signal(pid: number, sig: NodeJS.Signals | 0 = 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

describe('ServerStack on the real pulumi CLI with OoD’s provider plugin', () => {
  let stack: ServerStack;
  let firstDropletId: string;

  beforeAll(async () => {
    bin = await realPulumiBinDir();
    fake = await startFakeDigitalOcean({ token: TOKEN, dropletBootMs: 300 });
    dataDir = await mkdtemp(join(tmpdir(), 'ood-stack-'));
    const env = realPulumiEnv({ binDir: bin, pulumiHome: join(dataDir, 'pulumi-home'), doToken: TOKEN, doApiUrl: fake.url, providerTimeScale: SCALE });
    delete env.DIGITALOCEAN_TOKEN;
    delete env.DIGITALOCEAN_API_URL;
    restoreEnv = applyEnv(env);
  }, 30 * 60_000);
  afterAll(async () => {
    // The killed child's process group: a provider plugin its CLI left behind may still be waiting.
    if (child?.pid) signal(-child.pid, 'SIGKILL');
    restoreEnv();
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('creates the SSH key, the droplet and its firewall with the provider request bodies', async () => {
    stack = await ServerStack.open(options());
    await stack.setConfig({ 'ood:image': { value: 'debian-12-x64' } });
    const res = await stack.up('ood: start by admin-token');

    const posts = writes(0);
    expect(posts.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v2/account/keys', 'POST /v2/droplets', 'POST /v2/firewalls']);
    const keyId = [...fake.state.keys.values()][0]?.id;
    expect(posts[0]?.body).toEqual({ name: 'ood-t', public_key: PUBLIC_KEY });
    expect(posts[1]?.body).toEqual({
      name: 'ood-t',
      region: 'ams3',
      size: 's-1vcpu-1gb',
      image: 'debian-12-x64',
      ssh_keys: [keyId],
      backups: false,
      ipv6: false,
      private_networking: false,
      monitoring: true,
      user_data: USER_DATA,
      tags: ['ood', 'ood-t'],
    });
    const droplet = [...fake.state.droplets.values()][0];
    expect(droplet?.status).toBe('active'); // the provider waits for it, as the real one does
    expect(posts[2]?.body).toEqual({
      name: 'ood-t',
      droplet_ids: [droplet?.id],
      inbound_rules: [
        { protocol: 'tcp', ports: '25565', sources: { addresses: ['0.0.0.0/0', '::/0'] } },
        { protocol: 'tcp', ports: '22', sources: { addresses: ['127.0.0.1/32'] } },
      ],
      outbound_rules: [{ protocol: 'tcp', ports: '1-65535', destinations: { addresses: ['0.0.0.0/0'] } }],
      tags: null, // godo's FirewallRequest sends a nil slice as null
    });
    expect(res.outputs).toEqual({ dropletId: String(droplet?.id), ipv4: droplet?.ipv4 });
    firstDropletId = String(droplet?.id);
    expect(res.summary).toMatchObject({ result: 'succeeded', message: 'ood: start by admin-token', resourceChanges: { create: 4 } });
  });

  it('replaces the droplet when the image changes: the new one first, the firewall moved, the old one shut down and deleted', async () => {
    const before = fake.requests.length;
    await stack.setConfig({ 'ood:image': { value: 'ubuntu-24-04-x64' } });
    const res = await stack.up('ood: start by lobby');
    const newId = res.outputs.dropletId as string;
    expect(newId).not.toBe(firstDropletId);
    expect(calls(before)).toEqual([
      'POST /v2/droplets',
      `PUT /v2/firewalls/${[...fake.state.firewalls.keys()][0]}`,
      `POST /v2/droplets/${firstDropletId}/actions`,
      `DELETE /v2/droplets/${firstDropletId}`,
    ]);
    expect(writes(before)[2]?.body).toEqual({ type: 'shutdown' }); // gracefulShutdown
    expect([...fake.state.droplets.keys()].map(String)).toEqual([newId]);
    expect([...fake.state.firewalls.values()][0]?.dropletIds).toEqual([Number(newId)]);
    expect(res.summary.resourceChanges).toEqual({ same: 2, replace: 1, update: 1 });
    expect(await stack.dropletId()).toBe(Number(newId));
  });

  it('serializes concurrent updates of one stack: the second meets the lock, waits, and both succeed', async () => {
    const other = await ServerStack.open(options());
    const before = fake.requests.length;
    const [a, b] = await Promise.all([stack.up('ood: concurrent one'), other.up('ood: concurrent two')]);
    expect(a.summary.result).toBe('succeeded');
    expect(b.summary.result).toBe('succeeded');
    expect(writes(before)).toEqual([]);
    expect(fake.state.droplets.size).toBe(1);
    expect(logs.some((l) => l.includes('Stack ood-t was locked by another update; retrying up'))).toBe(true);
  });

  let thrown: unknown;
  it('fails a throwing program with a PulumiStepError naming the stack and the error, and records the update as failed', async () => {
    const broken = await ServerStack.open(options({ program: program({ throws: 'spec check failed: no region' }) }));
    thrown = await broken.up('ood: start by admin-token').catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(PulumiStepError);
    // The real CLI's words for an inline program that throws: `error: Unhandled exception: Error: …`.
    expect((thrown as PulumiStepError).message).toMatch(/up of stack ood-t failed: error: Unhandled exception: Error: spec check failed: no region/);
    expect((await stack.history())[0]).toMatchObject({ result: 'failed', message: 'ood: start by admin-token' });
    expect(fake.state.droplets.size).toBe(1); // a failed program deletes nothing
  });

  // The real CLI's words for it are not the ones OoD first knew ("failed with an unhandled
  // exception"): a broken program was marked retryable and would have been run again and again.
  it('marks the throwing program’s error terminal (not retryable)', () => {
    expect(thrown).toBeInstanceOf(PulumiStepError);
    expect((thrown as PulumiStepError).retryable).toBe(false);
  });

  it('fails an up that DigitalOcean answers with 5xx (past the provider’s retries) as retryable, and the next up converges', async () => {
    const [oldId] = fake.state.droplets.keys();
    await stack.setConfig({ 'ood:image': { value: 'debian-13-x64' } });
    // The provider retries a 5xx 4 times (godo over go-retryablehttp): the fifth answer decides.
    fake.faults.serverErrors(5, 503, (method, path) => method === 'POST' && path === '/v2/droplets');
    const err = await stack.up('ood: start by admin-token').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulumiStepError);
    expect((err as PulumiStepError).message).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/v2\/droplets: 503 \(request "[^"]*"\) Unexpected server-side error/);
    expect((err as PulumiStepError).retryable).toBe(true);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/v2/droplets' && r.status === 503)).toHaveLength(5);
    expect([...fake.state.droplets.keys()]).toEqual([oldId]); // nothing made, nothing deleted

    const res = await stack.up('ood: start by admin-token (retry)');
    expect(res.summary.result).toBe('succeeded');
    expect([...fake.state.droplets.keys()].map(String)).toEqual([res.outputs.dropletId]);
    expect([...fake.state.firewalls.values()][0]?.dropletIds).toEqual([Number(res.outputs.dropletId)]);
    expect(fake.state.keys.size).toBe(1);
  });

  it('lists the history with messages and changes, and keeps the token out of everything it returns, logs or stores', async () => {
    const history = await stack.history();
    expect(history.map((h) => [h.version, h.kind, h.result, h.message])).toEqual([
      [7, 'update', 'succeeded', 'ood: start by admin-token (retry)'],
      [6, 'update', 'failed', 'ood: start by admin-token'],
      [5, 'update', 'failed', 'ood: start by admin-token'],
      [4, 'update', 'succeeded', expect.stringMatching(/^ood: concurrent/)],
      [3, 'update', 'succeeded', expect.stringMatching(/^ood: concurrent/)],
      [2, 'update', 'succeeded', 'ood: start by lobby'],
      [1, 'update', 'succeeded', 'ood: start by admin-token'],
    ]);
    expect(history[6]?.resourceChanges).toEqual({ create: 4 });
    expect(Date.parse(history[0]?.startTime ?? '')).toBeLessThanOrEqual(Date.parse(history[0]?.endTime ?? ''));

    // The token went to the CLI's environment only: never stack config (the CLI's command line).
    const project = join(dataDir, 'pulumi-project');
    const stackConfig = parse(await readFile(join(project, 'Pulumi.ood-t.yaml'), 'utf8')) as { config?: Record<string, unknown> };
    expect(Object.keys(stackConfig.config ?? {})).toEqual(['ood:image']);

    const passphrase = (await readFile(join(dataDir, 'pulumi-passphrase'), 'utf8')).trim();
    const outputs = await stack.outputs();
    const stored = await readTree(join(dataDir, 'pulumi'));
    const projectFiles = await readTree(project);
    const pulumiHome = await readTree(join(dataDir, 'pulumi-home'));
    expect(projectFiles).toContain('ood:image'); // Pulumi.yaml and Pulumi.ood-t.yaml were read
    expect(stored).toContain('digitalocean:index/droplet:Droplet'); // and the state and history
    expect(logs.some((l) => l.startsWith('debug [ood-t]'))).toBe(true); // engine output did reach the log
    for (const secret of [TOKEN, passphrase, 'PRIVATE-HOST-KEY']) {
      for (const text of [JSON.stringify(history), JSON.stringify(outputs), logs.join('\n'), stored, projectFiles, pulumiHome]) {
        expect(text.includes(secret)).toBe(false);
      }
    }
    expect(stored).toContain('ciphertext'); // the secrets are there, encrypted
  });

  it('removes a `digitalocean:token` an earlier OoD left in stack config when it opens the stack', async () => {
    const passphrase = (await readFile(join(dataDir, 'pulumi-passphrase'), 'utf8')).trim();
    const cli = { cwd: join(dataDir, 'pulumi-project'), env: { PULUMI_CONFIG_PASSPHRASE: passphrase } };
    await runPulumi(bin, ['config', 'set', '--secret', 'digitalocean:token', 'old-token-in-config', '--stack', 'ood-t', '--non-interactive'], cli);
    await runPulumi(bin, ['config', 'set', 'digitalocean:apiEndpoint', 'http://127.0.0.1:9', '--stack', 'ood-t', '--non-interactive'], cli);
    await ServerStack.open(options());
    const stackConfig = parse(await readFile(join(dataDir, 'pulumi-project', 'Pulumi.ood-t.yaml'), 'utf8')) as { config?: Record<string, unknown> };
    expect(Object.keys(stackConfig.config ?? {})).toEqual(['ood:image']);
  });

  it('leaves the create a kill -9 cut off pending; ServerStack lists it and adopts the droplet, so the next up makes no second one', async () => {
    const spec: ServerSpec = { server: 'crash', installation: '0c0c0c0c', region: 'ams3', size: 's-1vcpu-1gb', gamePort: 25565, sshSources: ['127.0.0.1/32'], sshPublicKey: sshKeyPair().public, userData: USER_DATA };
    const crashOptions = options({ server: 'crash', program: serverProgram(spec) });
    await (await ServerStack.open(crashOptions)).setConfig({ 'ood:image': { value: 'debian-12-x64' } });
    // A controller's stack worker in a process of its own (and its own process group, for afterAll).
    const before = fake.requests.length;
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, join(bin, 'pulumi'), JSON.stringify(spec), 'ood: start by crash test'], {
      cwd: ROOT,
      env: { ...process.env, DIGITALOCEAN_TOKEN: TOKEN, DIGITALOCEAN_API_URL: fake.url },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    child = proc;
    let childErr = '';
    proc.stderr?.on('data', (d: Buffer) => (childErr += d.toString()));
    const created = (): boolean => fake.requests.slice(before).some((r) => r.method === 'POST' && r.path === '/v2/droplets' && r.status < 300);
    await waitFor('the droplet’s create request', () => created() || proc.exitCode !== null, 60_000);
    expect(created(), childErr).toBe(true);
    // The provider is now waiting for the droplet to become active: the engine has not heard back.
    proc.kill('SIGKILL');

    // The CLI dies with it (its output has nowhere to go), leaving its lock behind.
    const lockDir = join(dataDir, 'pulumi', '.pulumi', 'locks', 'organization', 'ood', 'ood-crash');
    const lockFiles = async (): Promise<string[]> => (await readdir(lockDir)).filter((f) => f.endsWith('.json'));
    const [lockFile] = await lockFiles();
    const lock = JSON.parse(await readFile(join(lockDir, lockFile ?? ''), 'utf8')) as { pid: number };
    await waitFor(`the pulumi CLI (pid ${lock.pid}) to end`, () => !signal(lock.pid), 30_000);

    // The key is recorded; the droplet exists in DigitalOcean but only as a pending create in the state.
    const droplets = [...fake.state.droplets.values()].filter((d) => d.name === 'ood-crash');
    expect(droplets).toHaveLength(1);
    const checkpoint = JSON.parse(await readFile(join(dataDir, 'pulumi', '.pulumi', 'stacks', 'ood', 'ood-crash.json'), 'utf8')) as {
      checkpoint: { latest: { resources: { type: string; id?: string }[]; pending_operations?: { type: string; resource: { urn: string } }[] } };
    };
    const latest = checkpoint.checkpoint.latest;
    expect(latest.resources.map((r) => r.type)).toEqual(['pulumi:pulumi:Stack', 'pulumi:providers:digitalocean', 'digitalocean:index/sshKey:SshKey']);
    const urn = 'urn:pulumi:ood-crash::ood::digitalocean:index/droplet:Droplet::ood-crash';
    expect(latest.pending_operations?.map((op) => [op.type, op.resource.urn])).toEqual([['creating', urn]]);

    const crash = await ServerStack.open(crashOptions);
    expect(await crash.history()).toEqual([]); // the real engine records an update only when it ends
    expect(await crash.dropletId()).toBeNull();
    const pending = await crash.pendingCreates();
    expect(pending).toMatchObject([{ urn, type: 'digitalocean:index/droplet:Droplet', inputs: { name: 'ood-crash', image: 'debian-12-x64' } }]);

    await crash.settlePendingCreates({ [urn]: String(droplets[0]?.id) }, 'ood: start by crash test (settling what a cut-off update left pending)');
    expect(logs).toContain(`warn Removed stale Pulumi lock of stack ood-crash left by pid ${lock.pid}, which no longer runs`);
    expect(await lockFiles()).toEqual([]);
    expect(await crash.pendingCreates()).toEqual([]);
    expect(await crash.dropletId()).toBe(droplets[0]?.id);

    // The next up finishes what the killed one began: the firewall, and no second droplet.
    const resumed = fake.requests.length;
    const res = await crash.up('ood: resume after restart');
    expect(calls(resumed)).toEqual(['POST /v2/firewalls']);
    expect(res.outputs.dropletId).toBe(String(droplets[0]?.id));
    expect([...fake.state.droplets.values()].filter((d) => d.name === 'ood-crash')).toHaveLength(1);
    expect((await crash.history()).map((h) => [h.kind, h.result])).toEqual([
      ['update', 'succeeded'],
      ['refresh', 'succeeded'],
    ]);
    await crash.destroy('ood: test done');
  });

  it('destroys everything in the stack', async () => {
    await stack.destroy('ood: stop after idle');
    expect(fake.state.droplets.size).toBe(0);
    expect(fake.state.firewalls.size).toBe(0);
    expect(fake.state.keys.size).toBe(0);
    expect(await stack.outputs()).toEqual({});
    expect((await stack.history())[0]).toMatchObject({ kind: 'destroy', result: 'succeeded', message: 'ood: stop after idle', resourceChanges: { delete: 4 } });
  });

  it('creates the passphrase file once, 0600, and reuses it', async () => {
    const file = join(dataDir, 'pulumi-passphrase');
    const first = await readFile(file, 'utf8');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await ServerStack.open(options());
    expect(await readFile(file, 'utf8')).toBe(first);
  });

  it('reports a missing CLI with how to install it or where to point pulumi.command', async () => {
    expect(await checkPulumiCli(join(bin, 'pulumi'))).toBe('3.276.0');
    const err = await checkPulumiCli('/nonexistent/bin/pulumi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulumiMissingError);
    expect((err as Error).message).toMatch(/https:\/\/www\.pulumi\.com\/docs\/install\/.*pulumi\.command/);
    await expect(ServerStack.open(options({ pulumiCommand: '/nonexistent/bin/pulumi' }))).rejects.toBeInstanceOf(PulumiMissingError);
  });
});

async function readTree(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  return parts.join('\n');
}
