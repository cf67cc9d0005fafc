import * as digitalocean from '@pulumi/digitalocean';
import * as pulumi from '@pulumi/pulumi';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sshKeyPair } from '../controller/drivers/digitalocean/keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDigitalOcean, type FakeDo } from '../test/fake-do/server.js';
import { PulumiMissingError, PulumiStepError } from './errors.js';
import { serverProgram } from './program.js';
import { checkPulumiCli, ServerStack, type StackOptions } from './stack.js';

// ServerStack against the `pulumi` stand-in (test/pulumi-standin) and the fake DigitalOcean API: the
// same Automation calls the controller makes, down to the HTTP requests a real provider would send.
const STANDIN = fileURLToPath(new URL('../test/pulumi-standin/bin/pulumi', import.meta.url));
const TOKEN = 'do-token-3f9a1c77e2b54d0e';
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBp3eUqkqz0WcLx5D1Hq9Y1Yt3xJm2bq7m6b4Qm7s0yX ood-t';
const USER_DATA = '#cloud-config\nssh_keys:\n  ed25519_private: PRIVATE-HOST-KEY\n';

let fake: FakeDo;
let dataDir: string;
const logs: string[] = [];

/** The shape of the real program: SSH key, droplet from `ood:image`, firewall on the droplet. */
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
    env: { DIGITALOCEAN_TOKEN: TOKEN, DIGITALOCEAN_API_URL: fake.url },
    pulumiCommand: STANDIN,
    log: (level, msg) => logs.push(`${level} ${msg}`),
    ...overrides,
  };
}

const writes = (from: number): { method: string; path: string; body?: unknown }[] =>
  fake.requests.slice(from).filter((r) => r.method !== 'GET');

describe('ServerStack with the pulumi stand-in', () => {
  let stack: ServerStack;
  let firstDropletId: string;

  beforeAll(async () => {
    fake = await startFakeDigitalOcean({ token: TOKEN, dropletBootMs: 300 });
    dataDir = await mkdtemp(join(tmpdir(), 'ood-stack-'));
  });
  afterAll(async () => {
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
      tags: ['ood', 'ood-t'],
      user_data: USER_DATA,
      monitoring: true,
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
    });
    expect(res.outputs).toEqual({ dropletId: String(droplet?.id), ipv4: droplet?.ipv4 });
    firstDropletId = String(droplet?.id);
    expect(res.summary).toMatchObject({ result: 'succeeded', message: 'ood: start by admin-token', resourceChanges: { create: 4 } });
  });

  it('changes nothing on a second up with the same config', async () => {
    const before = fake.requests.length;
    const res = await stack.up('ood: start by admin-token (again)');
    expect(writes(before)).toEqual([]);
    expect(res.summary.resourceChanges).toEqual({ same: 4 });
    expect(res.outputs.dropletId).toBe(firstDropletId);
    // Read from the state's resources (what a cut-off update leaves), not from the outputs.
    expect(await stack.dropletId()).toBe(Number(firstDropletId));
  });

  it('replaces the droplet when the image changes, and moves the firewall to the new one', async () => {
    const before = fake.requests.length;
    await stack.setConfig({ 'ood:image': { value: 'ubuntu-24-04-x64' } });
    const res = await stack.up('ood: start by lobby');
    const newId = res.outputs.dropletId as string;
    expect(newId).not.toBe(firstDropletId);
    expect(writes(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v2/droplets',
      `PUT /v2/firewalls/${[...fake.state.firewalls.keys()][0]}`,
      `DELETE /v2/droplets/${firstDropletId}`,
    ]);
    expect([...fake.state.droplets.keys()].map(String)).toEqual([newId]);
    expect([...fake.state.firewalls.values()][0]?.dropletIds).toEqual([Number(newId)]);
    expect(res.summary.resourceChanges).toEqual({ same: 2, replace: 1, update: 1 });
  });

  it("never replaces OoD's own droplet when a newer snapshot is set while it exists (ignoreChanges on the image)", async () => {
    const real = await ServerStack.open(
      options({
        server: 'real',
        program: serverProgram({ server: 'real', region: 'ams3', size: 's-1vcpu-1gb', gamePort: 25565, sshSources: ['127.0.0.1/32'], sshPublicKey: sshKeyPair().public, userData: USER_DATA }),
      }),
    );
    await real.setConfig({ 'ood:image': { value: 'debian-13-x64' } });
    const first = await real.up('ood: start by admin-token');
    const before = fake.requests.length;
    await real.setConfig({ 'ood:image': { value: 'ubuntu-24-04-x64' } });
    const again = await real.up('ood: start by admin-token');
    expect(again.outputs.dropletId).toBe(first.outputs.dropletId);
    expect(writes(before)).toEqual([]);
    await real.destroy('ood: test done');
  });

  it('serializes concurrent updates of one stack: the second waits for the lock and both succeed', async () => {
    const other = await ServerStack.open(options());
    const before = fake.requests.length;
    const [a, b] = await Promise.all([stack.up('ood: concurrent one'), other.up('ood: concurrent two')]);
    expect(a.summary.result).toBe('succeeded');
    expect(b.summary.result).toBe('succeeded');
    expect(writes(before)).toEqual([]);
    expect(fake.state.droplets.size).toBe(1);
    expect(logs.some((l) => l.includes('was locked by another update'))).toBe(true);
  });

  it('fails a throwing program with a terminal PulumiStepError and records the update as failed', async () => {
    const broken = await ServerStack.open(options({ program: program({ throws: 'spec check failed: no region' }) }));
    const err = await broken.up('ood: start by admin-token').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulumiStepError);
    expect((err as PulumiStepError).message).toMatch(/up of stack ood-t failed[\s\S]*spec check failed: no region/);
    expect((err as PulumiStepError).retryable).toBe(false);
    expect((await stack.history())[0]).toMatchObject({ result: 'failed', message: 'ood: start by admin-token' });
    expect(fake.state.droplets.size).toBe(1); // a failed program deletes nothing
  });

  it('lists the history with messages and changes, and keeps the token out of everything it returns, logs or stores', async () => {
    const history = await stack.history();
    expect(history.map((h) => [h.version, h.kind, h.result, h.message])).toEqual([
      [6, 'update', 'failed', 'ood: start by admin-token'],
      [5, 'update', 'succeeded', expect.stringMatching(/^ood: concurrent/)],
      [4, 'update', 'succeeded', expect.stringMatching(/^ood: concurrent/)],
      [3, 'update', 'succeeded', 'ood: start by lobby'],
      [2, 'update', 'succeeded', 'ood: start by admin-token (again)'],
      [1, 'update', 'succeeded', 'ood: start by admin-token'],
    ]);
    expect(history[5]?.resourceChanges).toEqual({ create: 4 });
    expect(Date.parse(history[0]?.startTime ?? '')).toBeLessThanOrEqual(Date.parse(history[0]?.endTime ?? ''));

    const passphrase = (await readFile(join(dataDir, 'pulumi-passphrase'), 'utf8')).trim();
    const outputs = await stack.outputs();
    const stored = await readTree(join(dataDir, 'pulumi'));
    const project = await readTree(join(dataDir, 'pulumi-project'));
    expect(logs.some((l) => l.startsWith('debug [ood-t]'))).toBe(true); // engine output did reach the log
    for (const secret of [TOKEN, passphrase, 'PRIVATE-HOST-KEY']) {
      for (const text of [JSON.stringify(history), JSON.stringify(outputs), logs.join('\n'), stored, project]) {
        expect(text.includes(secret)).toBe(false);
      }
    }
    expect(stored).toContain('ciphertext'); // the secrets are there, encrypted
  });

  it('destroys everything in the stack', async () => {
    await stack.destroy('ood: stop after idle');
    expect(fake.state.droplets.size).toBe(0);
    expect(fake.state.firewalls.size).toBe(0);
    expect(fake.state.keys.size).toBe(0);
    expect(await stack.outputs()).toEqual({});
    expect((await stack.history())[0]).toMatchObject({ kind: 'destroy', result: 'succeeded', message: 'ood: stop after idle', resourceChanges: { delete: 4 } });
  });

  it('fails an up that DigitalOcean answers with 5xx as retryable, and the next up converges', async () => {
    fake.faults.serverErrors(1, 503);
    const err = await stack.up('ood: start by admin-token').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulumiStepError);
    expect((err as PulumiStepError).message).toMatch(/503 \(service_unavailable\)/);
    expect((err as PulumiStepError).retryable).toBe(true);
    const res = await stack.up('ood: start by admin-token (retry)');
    expect(res.summary.result).toBe('succeeded');
    expect(fake.state.droplets.size).toBe(1);
    expect(fake.state.keys.size).toBe(1);
  });

  it('removes a lock left by a pulumi process of ours that no longer runs, and keeps going', async () => {
    const dead = spawnSync('true').pid; // a pid that has just exited
    const lockDir = join(dataDir, 'pulumi', '.pulumi', 'locks', 'organization', 'ood', 'ood-t');
    await mkdir(lockDir, { recursive: true });
    await writeFile(join(lockDir, 'left-behind.json'), JSON.stringify({ pid: dead, username: 'root', hostname: hostname(), timestamp: new Date().toISOString() }));
    const res = await stack.up('ood: start after a crash');
    expect(res.summary.result).toBe('succeeded');
    expect(logs.some((l) => l.startsWith('warn Removed stale Pulumi lock of stack ood-t'))).toBe(true);
    expect(await readdir(lockDir)).toEqual([]);
  });

  it('creates the passphrase file once, 0600, and reuses it', async () => {
    const file = join(dataDir, 'pulumi-passphrase');
    const first = await readFile(file, 'utf8');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await ServerStack.open(options());
    expect(await readFile(file, 'utf8')).toBe(first);
  });

  it('reports a missing CLI with how to install it or where to point pulumi.command', async () => {
    expect(await checkPulumiCli(STANDIN)).toBe('3.248.0');
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
