import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as digitalocean from '@pulumi/digitalocean';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshKeyPair } from '../../controller/drivers/digitalocean/keys.js';
import { serverProgram, type ServerSpec } from '../../infra/program.js';
import { ServerStack, type StackOptions } from '../../infra/stack.js';
import { startFakeDigitalOcean, type FakeDo, type RequestRecord } from '../fake-do/server.js';
import { applyEnv, realPulumiBinDir, realPulumiEnv, runPulumi } from '../helpers/real-pulumi.js';

// OoD's real program through OoD's real Automation wrapper, run by the real pulumi CLI (built by
// test/pulumi/build.sh) with OoD's DigitalOcean provider plugin (test/pulumi/provider/) against the
// fake DigitalOcean API. The plugin waits as the real provider does, scaled down by SCALE.
const TOKEN = 'do-token-real-engine-7d41c2';
// OOD_TEST_DO_TIME_SCALE=1 runs it at the real provider's pace (10 s delays, 3 s polls).
const SCALE = Number(process.env.OOD_TEST_DO_TIME_SCALE ?? 0.05);
const USER_DATA = '#cloud-config\nssh_keys:\n  ed25519_private: PRIVATE-HOST-KEY-REAL\n';
const SPEC: ServerSpec = {
  server: 'real',
  installation: '0a0a0a0a',
  region: 'ams3',
  size: 's-1vcpu-1gb',
  gamePort: 25565,
  sshSources: ['127.0.0.1/32'],
  sshPublicKey: sshKeyPair().public,
  userData: USER_DATA,
  domain: { zone: 'example.com', name: 'play' },
};

let fake: FakeDo;
let dir: string;
let bin: string;
let cliEnv: Record<string, string>;
let restoreEnv: () => void = () => undefined;
const logs: string[] = [];

const writes = (from: number): RequestRecord[] => fake.requests.slice(from).filter((r) => r.method !== 'GET');
// A UUID is tried first: one that begins with six digits would otherwise lose only those digits
// to the droplet-id pattern (a firewall id did, once in about 16 runs, and failed CI).
const calls = (rs: RequestRecord[]): string[] => rs.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{6,}/g, '{id}')}`);

function options(): StackOptions {
  return {
    server: SPEC.server,
    program: serverProgram(SPEC),
    dataDir: join(dir, 'data'),
    env: { DIGITALOCEAN_TOKEN: TOKEN, DIGITALOCEAN_API_URL: fake.url },
    pulumiCommand: join(bin, 'pulumi'),
    log: (level, msg) => logs.push(`${level} ${msg}`),
  };
}

/** The built CLI in OoD's project directory, with the passphrase OoD generated. */
async function pulumi(args: string[]): Promise<string> {
  const passphrase = (await readFile(join(dir, 'data', 'pulumi-passphrase'), 'utf8')).trim();
  const { stdout } = await runPulumi(bin, [...args, '--stack', 'ood-real', '--non-interactive'], {
    cwd: join(dir, 'data', 'pulumi-project'),
    env: { ...cliEnv, PULUMI_CONFIG_PASSPHRASE: passphrase },
  });
  return stdout;
}

describe('OoD on the real pulumi engine with its DigitalOcean provider plugin', () => {
  let stack: ServerStack;
  let dropletId: string;

  beforeAll(async () => {
    bin = await realPulumiBinDir();
    fake = await startFakeDigitalOcean({ token: TOKEN, dropletBootMs: 300 });
    dir = await mkdtemp(join(tmpdir(), 'ood-real-pulumi-'));
    cliEnv = realPulumiEnv({ binDir: bin, pulumiHome: join(dir, 'pulumi-home'), doToken: TOKEN, doApiUrl: fake.url, providerTimeScale: SCALE });
    restoreEnv = applyEnv(cliEnv);
  }, 30 * 60_000);
  afterAll(async () => {
    console.info(logs.filter((l) => l.startsWith('timing')).join('\n'));
    restoreEnv();
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates the SSH key, the droplet (waiting until active), its firewall and the DNS record', async () => {
    stack = await ServerStack.open(options());
    await stack.setConfig({ 'ood:image': { value: 'debian-12-x64' } });
    const started = Date.now();
    const res = await stack.up('ood: start by admin-token');
    logs.push(`timing up ${Date.now() - started} ms`);

    expect(calls(writes(0)).slice(0, 2)).toEqual(['POST /v2/account/keys', 'POST /v2/droplets']);
    expect(calls(writes(0)).slice(2).sort()).toEqual(['POST /v2/domains/example.com/records', 'POST /v2/firewalls']);
    const droplet = [...fake.state.droplets.values()][0];
    const key = [...fake.state.keys.values()][0];
    expect(droplet).toMatchObject({ name: 'ood-real', status: 'active', monitoring: true, tags: ['ood', 'ood-real', 'ood:installation:0a0a0a0a'], userData: USER_DATA, sshKeyIds: [key?.id] });
    // godo's body: the four flags always, the key by its fingerprint (what the program passes).
    expect(writes(0)[1]?.body).toEqual({
      name: 'ood-real',
      region: 'ams3',
      size: 's-1vcpu-1gb',
      image: 'debian-12-x64',
      ssh_keys: [key?.fingerprint],
      backups: false,
      ipv6: false,
      private_networking: false,
      monitoring: true,
      user_data: USER_DATA,
      tags: ['ood', 'ood-real', 'ood:installation:0a0a0a0a'],
    });
    // The provider polls the droplet only after its first delay (10 s, scaled).
    const post = fake.requests.find((r) => r.method === 'POST' && r.path === '/v2/droplets');
    const firstGet = fake.requests.find((r) => r.method === 'GET' && r.path === `/v2/droplets/${droplet?.id}`);
    expect((firstGet?.at ?? 0) - (post?.at ?? 0)).toBeGreaterThanOrEqual(10_000 * SCALE - 50);
    expect([...fake.state.firewalls.values()][0]?.dropletIds).toEqual([droplet?.id]);
    expect([...fake.state.records.values()]).toMatchObject([{ domain: 'example.com', type: 'A', name: 'play', data: droplet?.ipv4, ttl: 60 }]);

    dropletId = String(droplet?.id);
    expect(res.outputs).toEqual({ dropletId, ipv4: droplet?.ipv4, fqdn: 'play.example.com' });
    expect(res.summary).toMatchObject({ result: 'succeeded', message: 'ood: start by admin-token', resourceChanges: { create: 5 } });
    expect(await stack.dropletId()).toBe(Number(dropletId));
  });

  it('keeps the user data secret in the state: the input and the hash the provider returns for it', async () => {
    const exported = JSON.parse(await pulumi(['stack', 'export'])) as { deployment: { resources: { type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }[] } };
    const droplet = exported.deployment.resources.find((r) => r.type === 'digitalocean:index/droplet:Droplet');
    const isSecret = (v: unknown): boolean => (v as Record<string, unknown> | undefined)?.['4dabf18193072939515e22adb298388d'] === '1b47061264138c4ac30d75fd1eb44270';
    expect(isSecret(droplet?.inputs.userData)).toBe(true);
    expect(isSecret(droplet?.outputs.userData)).toBe(true);
    expect(droplet?.outputs).toMatchObject({ dropletUrn: `do:droplet:${dropletId}`, status: 'active', monitoring: true, ipv6: false, gracefulShutdown: true });
    expect(JSON.stringify(exported)).not.toContain('PRIVATE-HOST-KEY');
  });

  it('changes nothing on a second up', async () => {
    const before = fake.requests.length;
    const res = await stack.up('ood: start by admin-token (again)');
    expect(calls(writes(before))).toEqual([]);
    expect(res.summary.resourceChanges).toEqual({ same: 5 });
    expect(res.outputs.dropletId).toBe(dropletId);
  });

  it('keeps the droplet when a newer image is set while it exists (ignoreChanges), with no update call', async () => {
    const before = fake.requests.length;
    await stack.setConfig({ 'ood:image': { value: 'ubuntu-24-04-x64' } });
    const res = await stack.up('ood: start by lobby');
    expect(calls(writes(before))).toEqual([]);
    expect(res.outputs.dropletId).toBe(dropletId);
    expect(res.summary.resourceChanges).toEqual({ same: 5 });
    expect(logs.filter((l) => l.includes('OoD finding'))).toEqual([]);
  });

  it('lists the updates with their messages in `pulumi stack history --json`', async () => {
    const history = JSON.parse(await pulumi(['stack', 'history', '--json'])) as { version: number; kind: string; result: string; message: string; resourceChanges?: Record<string, number> }[];
    expect(history.map((h) => [h.kind, h.result, h.message])).toEqual([
      ['update', 'succeeded', 'ood: start by lobby'],
      ['update', 'succeeded', 'ood: start by admin-token (again)'],
      ['update', 'succeeded', 'ood: start by admin-token'],
    ]);
    expect(history[2]?.resourceChanges).toEqual({ create: 5 });
    const own = await stack.history();
    expect(own.map((h) => [h.version, h.message])).toEqual(history.map((h, i) => [history.length - i, h.message]));
    expect(JSON.stringify(history)).not.toContain('PRIVATE-HOST-KEY');
    logs.push(`history versions ${JSON.stringify(history.map((h) => h.version))}`);
  });

  it('drops a droplet deleted outside Pulumi from the state on refresh, and the next up makes a new one', async () => {
    const res = await fetch(`${fake.url}/v2/droplets/${dropletId}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(204);
    await pulumi(['refresh', '--yes', '--message', 'test: refresh']);
    expect(await stack.dropletId()).toBeNull();

    const before = fake.requests.length;
    const up = await stack.up('ood: start after the droplet vanished');
    const newId = String(up.outputs.dropletId);
    expect(newId).not.toBe(dropletId);
    // The firewall and the record are updated in parallel, in either order.
    expect(calls(writes(before)).sort()).toEqual(['POST /v2/droplets', 'PUT /v2/domains/example.com/records/{id}', 'PUT /v2/firewalls/{id}']);
    expect([...fake.state.firewalls.values()][0]?.dropletIds).toEqual([Number(newId)]);
    expect([...fake.state.records.values()][0]?.data).toBe(fake.state.droplets.get(Number(newId))?.ipv4);
    dropletId = newId;
  });

  it('destroys everything, shutting the droplet down gracefully before deleting it', async () => {
    const before = fake.requests.length;
    const started = Date.now();
    await stack.destroy('ood: stop after idle');
    logs.push(`timing destroy ${Date.now() - started} ms`);
    expect(fake.state.droplets.size).toBe(0);
    expect(fake.state.firewalls.size).toBe(0);
    expect(fake.state.keys.size).toBe(0);
    expect(fake.state.records.size).toBe(0);
    const shutdown = fake.requests.findIndex((r, i) => i >= before && r.method === 'POST' && r.path === `/v2/droplets/${dropletId}/actions`);
    const deleted = fake.requests.findIndex((r, i) => i >= before && r.method === 'DELETE' && r.path === `/v2/droplets/${dropletId}`);
    expect((fake.requests[shutdown]?.body as { type?: string } | undefined)?.type).toBe('shutdown');
    expect(shutdown).toBeLessThan(deleted);
    // Between them the droplet was seen `off`; after the DELETE it is read until it is gone (404).
    expect(fake.requests.slice(deleted).some((r) => r.method === 'GET' && r.path === `/v2/droplets/${dropletId}` && r.status === 404)).toBe(true);
    expect(await stack.outputs()).toEqual({});
    expect((await stack.history())[0]).toMatchObject({ kind: 'destroy', result: 'succeeded', message: 'ood: stop after idle' });
    expect(logs.filter((l) => l.includes('OoD finding'))).toEqual([]);
  });

  it('warns in the engine output when the provider makes a call OoD never should (a rename)', async () => {
    let name = 'ood-probe-a';
    const probe = await ServerStack.open({
      ...options(),
      server: 'probe',
      program: async () => ({ id: new digitalocean.Droplet('probe', { name, image: 'debian-12-x64', size: 's-1vcpu-1gb', region: 'ams3' }).id }),
    });
    await probe.up('test: probe');
    name = 'ood-probe-b';
    await probe.up('test: probe renamed');
    expect([...fake.state.droplets.values()].map((d) => d.name)).toEqual(['ood-probe-b']);
    expect(logs.some((l) => l.startsWith('debug [ood-probe]') && l.includes('OoD finding: the DigitalOcean provider renamed droplet'))).toBe(true);
    await probe.destroy('test: probe done');
  });
});
