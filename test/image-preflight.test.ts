import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { imageBuildMarkPath } from '../controller/image-build-mark.js';
import { Store } from '../controller/store/store.js';
import { startFakeDigitalOcean, type FakeDo } from './fake-do/server.js';
import { claimLoopbackBlock, type LoopbackBlock } from './helpers/loopback-block.js';
import { ood } from './helpers/ood-cli.js';
import { realPulumiBinDir } from './helpers/real-pulumi.js';

const SHA1 = '4707d00eb834b446575d89a61a11b5d548d8c001';
const SHA256 = 'a'.repeat(64);
const URL_ARGS = ['--jar-url', 'https://piston-data.mojang.com/v1/objects/x/server.jar'];

/**
 * `ood image build` checks what it can before it spends: each refusal names the problem, exits 2
 * (the command or the config is wrong) or 3 (the server, `pulumi` or DigitalOcean is not ready), and
 * the fake DigitalOcean API's request log shows that nothing was created (no POST at all).
 */
describe('ood image build checks everything before it spends', () => {
  const work = mkdtempSync(join(tmpdir(), 'ood-image-preflight-'));
  const dataDir = join(work, 'data');
  let block: LoopbackBlock;
  let fake: FakeDo;
  let pulumi = '';
  let env: Record<string, string>;

  const writeConfig = (pulumiCommand = pulumi) => {
    const config = join(work, 'ood.yaml');
    writeFileSync(config, stringify({
      dataDir: './data',
      pulumi: { command: pulumiCommand },
      servers: [
        { id: 'survival', driver: 'digitalocean', digitalocean: { sshSources: ['127.0.0.0/8'] } },
        { id: 'home', driver: 'local', game: { port: 25999 } },
      ],
    }));
    return config;
  };
  const build = (args: string[], extraEnv: Record<string, string> = {}) =>
    ood(['image', 'build', '--config', join(work, 'ood.yaml'), ...args], { env: { ...env, ...extraEnv }, timeoutMs: 120_000 });
  const posts = () => fake.requests.filter((r) => r.method !== 'GET');

  beforeAll(async () => {
    block = await claimLoopbackBlock();
    fake = await startFakeDigitalOcean({ ipBase: block.ipBase });
    pulumi = join(await realPulumiBinDir(), 'pulumi');
    env = { DIGITALOCEAN_TOKEN: fake.token, DIGITALOCEAN_API_URL: fake.url, PULUMI_SKIP_UPDATE_CHECK: 'true' };
  }, 30 * 60_000);
  beforeEach(() => {
    writeConfig();
    fake.requests.length = 0;
  });
  afterAll(async () => {
    await fake?.close();
    block?.release();
    rmSync(work, { recursive: true, force: true });
  });

  it.each([
    ['no arguments', [], /Say where server\.jar comes from: --minecraft-version <id> .*, --jar-url <url> with --jar-checksum .*, or --jar <file>/],
    ['a jar URL and no checksum', [...URL_ARGS, '--accept-eula'], /--jar-url needs --jar-checksum: sha1:<40 hex digits> or sha256:<64 hex digits>/],
    ['a malformed checksum', [...URL_ARGS, '--jar-checksum', 'sha1:xyz', '--accept-eula'], /--jar-checksum "sha1:xyz" is not a checksum: expected sha1:<40 hex digits>, sha256:<64 hex digits>, or bare hex of 40 \(sha1\) or 64 \(sha256\) digits/],
    ['bare hex of the wrong length', [...URL_ARGS, '--jar-checksum', 'abc123', '--accept-eula'], /--jar-checksum "abc123" is not a checksum/],
    ['a sha256 that is not 64 digits', [...URL_ARGS, '--jar-sha256', SHA1, '--accept-eula'], /--jar-sha256 "4707d0.*" is not a sha256: expected 64 hex digits/],
    ['two jar sources', [...URL_ARGS, '--jar-checksum', SHA1, '--minecraft-version', '1.21.4', '--accept-eula'], /Choose one source for server\.jar, not two: --minecraft-version, --jar-url/],
    ['a checksum with --minecraft-version', ['--minecraft-version', '1.21.4', '--jar-checksum', SHA1, '--accept-eula'], /--jar-checksum goes with --jar-url or --jar; with --minecraft-version the sha1 comes from Mojang's version manifest/],
    ['a local jar that does not exist', ['--jar', join(work, 'nope.jar'), '--accept-eula'], /--jar .*nope\.jar: no such file/],
    ['a --world that does not exist', ['--minecraft-version', '1.21.4', '--accept-eula', '--world', join(work, 'no-world')], /--world .*no-world does not exist/],
    ['a --world directory without level.dat', ['--minecraft-version', '1.21.4', '--accept-eula', '--world', tmpdir()], /--world .* holds no level\.dat: is it a Minecraft world\?/],
    ['no --accept-eula', ['--minecraft-version', '1.21.4'], /Minecraft's server runs only for those who accept Mojang's EULA \(https:\/\/aka\.ms\/MinecraftEULA\): read it, then pass --accept-eula/],
    ['--host without --accept-eula', ['--host', '127.0.0.1', '--minecraft-version', '1.21.4'], /pass --accept-eula/],
    ['a server not in the config', ['--minecraft-version', '1.21.4', '--accept-eula', '--for', 'nope'], /--for nope: no server by that id in the config \(DigitalOcean servers: survival\)/],
    ['a server of the local driver', ['--minecraft-version', '1.21.4', '--accept-eula', '--for', 'home'], /--for home: home runs on the local driver; an image is for a DigitalOcean server \(DigitalOcean servers: survival\)/],
  ])('refuses %s with exit 2 before asking DigitalOcean anything', async (_what, args, message) => {
    const res = await build(args);
    expect(res.stderr).toMatch(message);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).not.toMatch(/Creating the builder droplet/);
    expect(fake.requests).toEqual([]);
  }, 120_000);

  it('accepts sha1 and sha256, prefixed or bare, and goes on to the next check', async () => {
    for (const sum of [`sha1:${SHA1}`, SHA1, `sha256:${SHA256}`, SHA256.toUpperCase()]) {
      // No token: the argument checks passed, the token check is the one that refuses.
      const res = await build([...URL_ARGS, '--jar-checksum', sum, '--accept-eula'], { DIGITALOCEAN_TOKEN: '' });
      expect(res.stderr, sum).toMatch(/DIGITALOCEAN_TOKEN is not set/);
      expect(res.code).toBe(2);
    }
    expect(fake.requests).toEqual([]);
  }, 120_000);

  it('refuses a server that is not archived with exit 3, and leaves no mark', async () => {
    const store = Store.open(join(dataDir, 'ood.db'));
    store.servers.ensure(['survival'], Date.now());
    store.servers.setDesired('survival', 'up', 'ann', Date.now());
    store.close();
    try {
      const res = await build(['--minecraft-version', '1.21.4', '--accept-eula']);
      expect(res.stderr).toMatch(/survival is archived and wanted up: an image built now would miss or overwrite what its session saves\. Stop it first/);
      expect(res.code).toBe(3);
      expect(existsSync(imageBuildMarkPath(dataDir, 'survival'))).toBe(false);
      expect(fake.requests).toEqual([]);
    } finally {
      rmSync(join(dataDir, 'ood.db'), { force: true });
    }
  }, 120_000);

  it('refuses when ansible-playbook is not on this machine, with exit 3', async () => {
    const res = await build(['--minecraft-version', '1.21.4', '--accept-eula'], { PATH: join(work, 'empty-path') });
    expect(res.stderr).toMatch(/ansible-playbook could not run on this machine \(.*ENOENT.*\); install Ansible \(Debian: apt install ansible\)/);
    expect(res.code).toBe(3);
    expect(fake.requests).toEqual([]);
  }, 120_000);

  it('refuses when the pulumi CLI does not run, with exit 3', async () => {
    writeConfig(join(work, 'no-such', 'bin', 'pulumi'));
    const res = await build(['--minecraft-version', '1.21.4', '--accept-eula']);
    expect(res.stderr).toMatch(/Could not run the Pulumi CLI \(.*no-such\/bin\/pulumi\)/);
    expect(res.code).toBe(3);
    expect(fake.requests).toEqual([]);
  }, 120_000);

  it('refuses when DigitalOcean does not accept the token, with exit 3 and nothing created', async () => {
    const res = await build(['--minecraft-version', '1.21.4', '--accept-eula'], { DIGITALOCEAN_TOKEN: 'not-the-token' });
    expect(res.stderr).toMatch(/DigitalOcean did not answer GET \/v2\/account as it should: .*401 unauthorized.*check DIGITALOCEAN_TOKEN/);
    expect(res.code).toBe(3);
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /v2/account 401']);
  }, 120_000);

  it('refuses when the DigitalOcean API does not answer at all, with exit 3', async () => {
    const res = await build(['--minecraft-version', '1.21.4', '--accept-eula'], { DIGITALOCEAN_API_URL: 'http://127.0.0.1:9' });
    expect(res.stderr).toMatch(/DigitalOcean did not answer GET \/v2\/account as it should: .*no answer/);
    expect(res.code).toBe(3);
    expect(posts()).toEqual([]);
  }, 120_000);
});
