import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianRoot } from '../helpers/debian-root.js';
import { mountsUnder, playInChroot, playRecap, type CommandResult } from './chroot-playbook.js';

const RUN_TIMEOUT_MS = 5 * 60_000;
const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');
/** Ansible's YAML output wraps long messages: match them with the line breaks made spaces. */
const flat = (output: string) => output.replace(/\s+/g, ' ');

/**
 * Where the role gets server.jar: Mojang's version manifest (`minecraft_version`), a URL with a sha1
 * or sha256, checked. A local HTTP server on 127.0.0.1 stands in for piston-meta and piston-data with
 * their documented shapes: version_manifest_v2.json lists versions (id, type, url, sha1…), and a
 * version's JSON has downloads.server.{sha1,size,url}. The role runs on a debootstrap root through the
 * chroot connection (which shares this machine's network, so the root reaches 127.0.0.1), only the
 * `minecraft` tag: the user, the jar, eula.txt and server.properties; no apt.
 */
describe('the minecraft_host role fetches server.jar by version, sha1 or sha256', () => {
  let root = '';
  let work = '';
  let server: Server;
  let base = '';
  const requests: string[] = [];
  const jar = Buffer.from('a small stand-in for Minecraft 1.21.4 server.jar\n');
  const otherJar = Buffer.from('what a tampered mirror would serve\n');

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ood-ansible-jar-'));
    root = await debianRoot({ include: ['python3', 'python3-apt'] });
    writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    const objects = new Map([[sha1(jar), jar], [sha1(otherJar), otherJar]]);
    const version = (id: string, serverSha1: string, object: string) => ({
      id,
      type: 'release',
      mainClass: 'net.minecraft.client.main.Main',
      downloads: {
        client: { sha1: '0'.repeat(40), size: 1, url: `${base}/v1/objects/${'0'.repeat(40)}/client.jar` },
        server: { sha1: serverSha1, size: jar.length, url: `${base}/v1/objects/${object}/server.jar` },
      },
    });
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const send = (status: number, body: string | Buffer, type = 'application/json') => res.writeHead(status, { 'content-type': type }).end(body);
      const url = req.url ?? '';
      if (url === '/mc/game/version_manifest_v2.json') {
        const entry = (id: string) => ({ id, type: 'release', url: `${base}/v1/packages/${'1'.repeat(40)}/${id}.json`, time: '2024-12-03T10:24:48+00:00', releaseTime: '2024-12-03T10:12:57+00:00', sha1: '1'.repeat(40), complianceLevel: 1 });
        return send(200, JSON.stringify({ latest: { release: '1.21.4', snapshot: '1.21.4' }, versions: [entry('1.21.4'), entry('1.21.3'), entry('1.0')] }));
      }
      if (url.endsWith('/1.21.4.json')) return send(200, JSON.stringify(version('1.21.4', sha1(jar), sha1(jar))));
      // A version JSON whose sha1 does not match what the object URL serves: the download must fail.
      if (url.endsWith('/1.21.3.json')) return send(200, JSON.stringify(version('1.21.3', sha1(Buffer.from('the 1.21.3 jar Mojang built\n')), sha1(otherJar))));
      // Old versions had no server download.
      if (url.endsWith('/1.0.json')) return send(200, JSON.stringify({ id: '1.0', type: 'release', downloads: { client: { sha1: '0'.repeat(40), size: 1, url: `${base}/c.jar` } } }));
      const object = /^\/v1\/objects\/([0-9a-f]{40})\/server\.jar$/.exec(url)?.[1];
      if (object && objects.has(object)) return send(200, objects.get(object)!, 'application/java-archive');
      return send(404, '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 10 * 60_000);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    const left = root ? mountsUnder(root) : [];
    if (root && left.length === 0) rmSync(root, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`Mounts left under ${root}: ${left.join(', ')}; unmount them, then remove the directory`);
  });

  const play = async (vars: Record<string, unknown>): Promise<CommandResult> => {
    const file = join(work, `vars-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ minecraft_accept_eula: true, minecraft_version_manifest_url: `${base}/mc/game/version_manifest_v2.json`, ...vars }));
    const result = await playInChroot(root, file, RUN_TIMEOUT_MS, ['--tags', 'minecraft']);
    console.log(`ansible chroot run (${JSON.stringify(vars)}): ${(result.ms / 1000).toFixed(1)} s`);
    return result;
  };
  const installed = () => readFileSync(join(root, 'srv/minecraft/server.jar'));

  it('with minecraft_version, finds the version in the manifest, downloads its server jar and checks its sha1; again, nothing changes', async () => {
    const first = await play({ minecraft_version: '1.21.4' });
    expect(first.code, first.output.slice(-6000)).toBe(0);
    expect(installed().equals(jar)).toBe(true);
    expect(requests).toEqual(['/mc/game/version_manifest_v2.json', `/v1/packages/${'1'.repeat(40)}/1.21.4.json`, `/v1/objects/${sha1(jar)}/server.jar`]);
    const second = await play({ minecraft_version: '1.21.4' });
    expect(second.code, second.output.slice(-6000)).toBe(0);
    const changed = second.output.split('\n').filter((l) => l.startsWith('changed:')).join('\n');
    expect(playRecap(second.output, root), changed).toMatchObject({ changed: 0, failed: 0 });
  }, 3 * RUN_TIMEOUT_MS);

  it('fails, naming the version and the manifest, for a version the manifest does not list', async () => {
    const res = await play({ minecraft_version: '9.9.9' });
    expect(res.code).not.toBe(0);
    expect(flat(res.output)).toMatch(/Minecraft 9\.9\.9 is not in the version manifest http:\/\/127\.0\.0\.1:\d+\/mc\/game\/version_manifest_v2\.json \(its latest release is 1\.21\.4\)/);
  }, RUN_TIMEOUT_MS);

  it('fails for a version without a server download', async () => {
    const res = await play({ minecraft_version: '1.0' });
    expect(res.code).not.toBe(0);
    expect(flat(res.output)).toMatch(/Minecraft 1\.0 has no server jar in its version JSON/);
  }, RUN_TIMEOUT_MS);

  it('refuses a jar whose sha1 is not the one the version JSON lists, and keeps the installed one', async () => {
    const res = await play({ minecraft_version: '1.21.3' });
    expect(res.code).not.toBe(0);
    expect(flat(res.output)).toMatch(/checksum.*did not match|does not match/i);
    expect(installed().equals(jar)).toBe(true);
  }, RUN_TIMEOUT_MS);

  it('downloads from a URL checked by sha1, prefixed or bare, and by sha256', async () => {
    const url = `${base}/v1/objects/${sha1(otherJar)}/server.jar`;
    const sha256 = createHash('sha256').update(otherJar).digest('hex');
    for (const checksum of [`sha1:${sha1(otherJar)}`, sha1(otherJar).toUpperCase(), `sha256:${sha256}`]) {
      rmSync(join(root, 'srv/minecraft/server.jar'), { force: true });
      const res = await play({ minecraft_server_url: url, minecraft_server_checksum: checksum });
      expect(res.code, `${checksum}\n${res.output.slice(-4000)}`).toBe(0);
      expect(installed().equals(otherJar)).toBe(true);
    }
    // The older variable still works.
    const legacy = await play({ minecraft_server_url: url, minecraft_server_sha256: sha256 });
    expect(legacy.code, legacy.output.slice(-4000)).toBe(0);
  }, 5 * RUN_TIMEOUT_MS);

  it('copies a jar from the control node, checked by sha1 when one is given', async () => {
    const file = join(work, 'local.jar');
    writeFileSync(file, jar);
    const ok = await play({ minecraft_server_jar_src: file, minecraft_server_checksum: `sha1:${sha1(jar)}` });
    expect(ok.code, ok.output.slice(-4000)).toBe(0);
    expect(installed().equals(jar)).toBe(true);
    const wrong = await play({ minecraft_server_jar_src: file, minecraft_server_checksum: sha1(otherJar) });
    expect(wrong.code).not.toBe(0);
    expect(flat(wrong.output)).toMatch(new RegExp(`server\\.jar copied from .*local\\.jar has sha1 ${sha1(jar)}, not sha1:${sha1(otherJar)}`));
  }, 3 * RUN_TIMEOUT_MS);

  it('refuses a malformed checksum and a URL without one before it downloads anything', async () => {
    requests.length = 0;
    const url = `${base}/v1/objects/${sha1(jar)}/server.jar`;
    const malformed = await play({ minecraft_server_url: url, minecraft_server_checksum: 'sha1:1234' });
    expect(malformed.code).not.toBe(0);
    expect(flat(malformed.output)).toMatch(/minecraft_server_checksum must be sha1:<40 hex digits> or sha256:<64 hex digits> \(bare hex of 40 or 64 digits too\), got "sha1:1234"/);
    const none = await play({ minecraft_server_url: url });
    expect(none.code).not.toBe(0);
    expect(flat(none.output)).toMatch(/minecraft_server_url needs minecraft_server_checksum/);
    const both = await play({ minecraft_version: '1.21.4', minecraft_server_url: url, minecraft_server_checksum: sha1(jar) });
    expect(both.code).not.toBe(0);
    expect(flat(both.output)).toMatch(/Set exactly one of minecraft_version, minecraft_server_url \(with minecraft_server_checksum\) or minecraft_server_jar_src/);
    expect(requests).toEqual([]);
  }, 4 * RUN_TIMEOUT_MS);
});
