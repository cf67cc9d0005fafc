import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { automation } from '@pulumi/pulumi';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerStack } from '../../infra/stack.js';
import { startFakeDigitalOcean, type FakeDo } from '../fake-do/server.js';
import { crashProgram } from './testing/crash-program.js';

// The stand-in's own promises beyond what infra/stack.test.ts covers: surviving the death of the
// process that ran it, and failing the way the real CLI fails (so Automation maps the errors).
const HERE = fileURLToPath(new URL('.', import.meta.url));
const STANDIN = join(HERE, 'bin', 'pulumi');
const ROOT = join(HERE, '..', '..');
const TOKEN = 'do-token-crash-5e1d';

let fake: FakeDo;
let dataDir: string;
let child: ChildProcess | undefined;

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the stand-in directly in a scratch project; resolves with its exit code and output. */
async function cli(args: string[], env: Record<string, string | undefined>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(STANDIN, [...args, '--non-interactive'], { cwd, env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('pulumi stand-in', () => {
  beforeAll(async () => {
    // A slow boot keeps the droplet's create step in flight long enough to kill the controller during it.
    fake = await startFakeDigitalOcean({ token: TOKEN, dropletBootMs: 2500 });
    dataDir = await mkdtemp(join(tmpdir(), 'ood-standin-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('records a failed update, unlocks and keeps what it created when the controller is killed mid-up', async () => {
    const proc = spawn(process.execPath, ['--import', join(ROOT, 'node_modules/tsx/dist/loader.mjs'), join(HERE, 'testing/crash-child.ts'), dataDir, fake.url, TOKEN], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let childErr = '';
    proc.stderr?.on('data', (d: Buffer) => (childErr += d.toString()));
    const created = (): boolean => fake.requests.some((r) => r.method === 'POST' && r.path === '/v2/droplets' && r.status < 300);
    await waitFor(`the droplet's create request (child stderr: ${childErr})`, created, 30_000);
    proc.kill('SIGKILL');

    const backend = join(dataDir, 'pulumi', '.pulumi');
    const historyDir = join(backend, 'history', 'ood', 'ood-crash');
    const histories = async (): Promise<string[]> =>
      existsSync(historyDir) ? (await readdir(historyDir)).filter((f) => f.endsWith('.history.json')) : [];
    await waitFor('the stand-in to record the update', async () => (await histories()).length === 1, 30_000);
    const [historyFile] = await histories();
    const record = JSON.parse(await readFile(join(historyDir, historyFile as string), 'utf8')) as { result: string; message: string };
    expect(record).toMatchObject({ result: 'failed', message: 'ood: start by crash test' });
    expect(await readdir(join(backend, 'locks', 'organization', 'ood', 'ood-crash'))).toEqual([]);
    const dropletId = [...fake.state.droplets.keys()][0];
    const checkpoint = JSON.parse(await readFile(join(backend, 'stacks', 'ood', 'ood-crash.json'), 'utf8')) as {
      checkpoint: { latest: { resources: { type: string; id?: string }[] } };
    };
    expect(checkpoint.checkpoint.latest.resources.find((r) => r.type === 'digitalocean:index/droplet:Droplet')?.id).toBe(String(dropletId));

    // The next controller converges: the same droplet, the firewall the dead run never got to.
    const stack = await ServerStack.open({
      server: 'crash',
      dataDir,
      env: { DIGITALOCEAN_TOKEN: TOKEN, DIGITALOCEAN_API_URL: fake.url },
      pulumiCommand: STANDIN,
      log: () => undefined,
      program: crashProgram,
    });
    const before = fake.requests.length;
    const res = await stack.up('ood: resume after restart');
    expect(fake.requests.slice(before).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v2/firewalls']);
    expect(res.outputs.dropletId).toBe(String(dropletId));
    expect(fake.state.droplets.size).toBe(1);
    expect((await stack.history()).map((h) => h.result)).toEqual(['succeeded', 'failed']);
    await stack.destroy('ood: test cleanup');
    expect(fake.state.droplets.size).toBe(0);
  });

  it('streams engine events over gRPC to Automation (the transport above 3.205.0)', async () => {
    const events: automation.EngineEvent[] = [];
    const backendDir = join(dataDir, 'events-backend');
    await mkdir(backendDir, { recursive: true });
    const stack = await automation.LocalWorkspace.createOrSelectStack(
      { projectName: 'ood', stackName: 'events', program: async () => ({ greeting: pulumi.secret('hello') }) },
      {
        pulumiCommand: await automation.PulumiCommand.get({ root: HERE }),
        envVars: { PULUMI_BACKEND_URL: `file://${backendDir}`, PULUMI_CONFIG_PASSPHRASE: 'pass-2' },
      },
    );
    const res = await stack.up({ message: 'events', onEvent: (e) => events.push(e), showSecrets: false });
    expect(res.outputs).toEqual({ greeting: { value: 'hello', secret: true } });
    expect(res.summary).toMatchObject({ result: 'succeeded', resourceChanges: { create: 1 } });
    const kinds = events.map((e) => Object.keys(e).find((k) => k.endsWith('Event')));
    expect(kinds[0]).toBe('preludeEvent');
    expect(kinds).toEqual(expect.arrayContaining(['resourcePreEvent', 'resOutputsEvent', 'summaryEvent']));
    expect(kinds.at(-1)).toBe('cancelEvent');
    expect(events.find((e) => e.summaryEvent)?.summaryEvent?.resourceChanges).toEqual({ create: 1 });
    expect(JSON.stringify(events)).not.toContain('hello');
  });

  describe('fails like the real CLI', () => {
    let project: string;
    let backendDir: string;
    const env = (): Record<string, string> => ({ PULUMI_BACKEND_URL: `file://${backendDir}`, PULUMI_CONFIG_PASSPHRASE: 'pass-1' });

    beforeAll(async () => {
      project = join(dataDir, 'cli-project');
      backendDir = join(dataDir, 'cli-backend');
      await mkdir(project, { recursive: true });
      await mkdir(backendDir, { recursive: true });
      await writeFile(join(project, 'Pulumi.yaml'), 'name: ood\nruntime: nodejs\n');
    });

    it('says "no stack named ... found" for an unknown stack, which Automation turns into stack init', async () => {
      const res = await cli(['stack', 'select', '--stack', 'ood-x'], env(), project);
      expect(res.code).toBe(255);
      expect(res.stderr).toMatch(/no stack named.*found/);
      expect((await cli(['stack', 'init', 'ood-x'], env(), project)).code).toBe(0);
    });

    it('refuses backends other than file://', async () => {
      const res = await cli(['stack', 'select', '--stack', 'ood-x'], { ...env(), PULUMI_BACKEND_URL: 's3://bucket/state' }, project);
      expect(res.code).toBe(255);
      expect(res.stderr).toMatch(/only supports file:\/\/ backends/);
    });

    it('needs the right passphrase for secrets', async () => {
      const missing = await cli(['config', 'set', 'digitalocean:token', '--secret', '--stack', 'ood-x', '--', 'tok'], { PULUMI_BACKEND_URL: env().PULUMI_BACKEND_URL }, project);
      expect(missing.stderr).toMatch(/passphrase must be set with PULUMI_CONFIG_PASSPHRASE/);
      expect((await cli(['config', 'set', 'digitalocean:token', '--secret', '--stack', 'ood-x', '--', 'tok'], env(), project)).code).toBe(0);
      const wrong = await cli(['config', '--show-secrets', '--json', '--stack', 'ood-x'], { ...env(), PULUMI_CONFIG_PASSPHRASE: 'other' }, project);
      expect(wrong.stderr).toMatch(/incorrect passphrase/);
      const right = await cli(['config', '--show-secrets', '--json', '--stack', 'ood-x'], env(), project);
      expect(JSON.parse(right.stdout)).toEqual({ 'digitalocean:token': { value: 'tok', secret: true } });
    });

    it("answers an update of a locked stack with the file backend's message (Automation's ConcurrentUpdateError)", async () => {
      const lockDir = join(backendDir, '.pulumi', 'locks', 'organization', 'ood', 'ood-x');
      await mkdir(lockDir, { recursive: true });
      await writeFile(join(lockDir, 'other.json'), JSON.stringify({ pid: 1, username: 'root', hostname: hostname(), timestamp: new Date().toISOString() }));
      const res = await cli(['up', '--yes', '--skip-preview', '--client=127.0.0.1:1', '--stack', 'ood-x'], env(), project);
      expect(res.code).toBe(255);
      expect(res.stderr).toContain('the stack is currently locked by 1 lock(s)');
      expect(await readdir(lockDir)).toEqual(['other.json']); // the other update's lock is not ours to remove
    });
  });
});
