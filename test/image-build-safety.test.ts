import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { DoClient } from '../controller/drivers/digitalocean/api/client.js';
import { findOrphans } from '../controller/drivers/digitalocean/orphans.js';
import { imageBuildMarkPath, setImageBuildMark } from '../controller/image-build-mark.js';
import { silentLogger } from '../controller/log.js';
import { Store } from '../controller/store/store.js';
import { startFakeDigitalOcean, type FakeDo } from './fake-do/server.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';

/** A process standing in for a running `ood image build` (the mark names its pid). */
const buildProcess = (): ChildProcess => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('a start while `ood image build` runs for the server', () => {
  let home: OodHome;
  let serving: Serving;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
  });
  afterEach(() => children.forEach((c) => c.kill('SIGKILL')));
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('is refused with 409 naming the build, and goes through once the build process is gone', async () => {
    const build = buildProcess();
    children.push(build);
    expect(setImageBuildMark(home.dataDir, { server: 'world', build: '1764000000', pid: build.pid!, stack: 'ood-image-world', startedAt: new Date().toISOString() })).toBeNull();
    const api = apiFor(serving.url);
    const refused = await api.start();
    expect(refused.status).toBe(409);
    expect(String(refused.body.error)).toMatch(/world cannot start while `ood image build` 1764000000 runs for it \(process \d+, stack ood-image-world/);
    expect((await api.server()).desired).toBe('down');
    // kill -9 of the build: its mark speaks for nothing any more.
    build.kill('SIGKILL');
    await exited(build);
    const started = await api.start();
    expect(started.status).toBe(202);
    await api.stop();
  });
});

describe('`ood image build` on a server that is not archived', () => {
  const work = mkdtempSync(join(tmpdir(), 'ood-image-guard-'));
  const config = join(work, 'ood.yaml');
  const dataDir = join(work, 'data');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('refuses, says how to go on, and leaves no mark behind', async () => {
    writeFileSync(config, stringify({ dataDir: './data', servers: [{ id: 'survival', driver: 'digitalocean', digitalocean: { sshSources: ['127.0.0.0/8'] } }] }));
    const store = Store.open(join(dataDir, 'ood.db'));
    store.servers.ensure(['survival'], Date.now());
    store.servers.setDesired('survival', 'up', 'ann', Date.now());
    store.close();
    // Nothing listens on port 9: a build that got past the guard would fail on the API instead.
    const res = await ood(['image', 'build', '--config', config, '--minecraft-version', '1.21.4', '--accept-eula'], { env: { DIGITALOCEAN_TOKEN: 'never-used', DIGITALOCEAN_API_URL: 'http://127.0.0.1:9' } });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/survival is archived and wanted up: an image built now would miss or overwrite what its session saves\. Stop it first \(`ood stop survival --wait`\)/);
    expect(existsSync(imageBuildMarkPath(dataDir, 'survival'))).toBe(false);
  });
});

describe('the orphan watch and builder droplets', () => {
  let fake: FakeDo;
  let api: DoClient;
  const work = mkdtempSync(join(tmpdir(), 'ood-builder-orphans-'));
  beforeAll(async () => {
    fake = await startFakeDigitalOcean();
    api = new DoClient({ baseUrl: fake.url, token: fake.token });
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const makeBuilder = async (name: string, installation = 'aaaa0001') => {
    const res = await fetch(`${fake.url}/v2/droplets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, region: 'ams3', size: 's-1vcpu-1gb', image: 'debian-13-x64', tags: ['ood-image-builder', `ood:installation:${installation}`] }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { droplet: { id: number } }).droplet.id;
  };
  const servers = [{ server: 'survival', stackDropletId: async () => null }];

  it('reports a builder no running build owns, deletes it with orphans.remove, and leaves a running build\'s builder alone', async () => {
    const id = await makeBuilder('ood-image-survival');
    const stranger = await makeBuilder('ood-image-elsewhere');
    const running = new Set<string>();
    const buildsRunning = () => running;
    const seen = await findOrphans(api, servers, { remove: false, log: silentLogger, buildsRunning, installation: 'aaaa0001' });
    expect(seen.map((o) => [o.kind, o.server, o.dropletId, o.removed])).toEqual([
      ['builder', 'survival', id, false],
      ['builder', null, stranger, false],
    ]);
    expect(seen[0]!.message).toMatch(/Builder droplet \d+ \(ood-image-survival, \w+\) is left by an `ood image build` that no longer runs; it is billed until deleted/);
    running.add('survival');
    expect((await findOrphans(api, servers, { remove: true, log: silentLogger, buildsRunning, installation: 'aaaa0001' })).map((o) => o.dropletId)).toEqual([stranger]);
    running.clear();
    const removed = await findOrphans(api, servers, { remove: true, log: silentLogger, buildsRunning, installation: 'aaaa0001' });
    expect(removed.map((o) => [o.dropletId, o.removed])).toEqual([
      [id, true],
      [stranger, false],
    ]);
    expect([...fake.state.droplets.values()].map((d) => d.name)).toEqual(['ood-image-elsewhere']);
  });

  it("never removes another installation's builder for a server of the same id: its build may be running there", async () => {
    const theirs = await makeBuilder('ood-image-survival', 'bbbb0002');
    const seen = await findOrphans(api, servers, { remove: true, log: silentLogger, buildsRunning: () => new Set(), installation: 'aaaa0001' });
    const report = seen.find((o) => o.dropletId === theirs)!;
    expect(report).toMatchObject({ kind: 'foreign', server: 'survival', removed: false });
    expect(report.message).toMatch(/installation bbbb0002/);
    expect(fake.state.droplets.get(theirs)?.status).not.toBe('archive');
    expect([...fake.state.droplets.values()].filter((d) => d.status !== 'archive').map((d) => d.id)).toContain(theirs);
  });
});
