import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { archiveName, writeArchive } from '../controller/drivers/local/archive.js';
import { chooseArchive } from '../controller/worlds/chosen-archive.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { makeDoWorld, type DoWorld } from './helpers/do-world.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';
import { loginAs } from './helpers/web-client.js';

interface Version {
  id: string;
  name: string;
  time: string;
  bytes: number;
  where: string;
  next: boolean;
  chosen: boolean;
  session: { players: string[]; duration: number } | null;
}

const NOW = Math.floor(Date.now() / 1000);

/** A game's folder as a copy holds it (the local driver's archive format): a world with a marker file beside the game's files. */
function makeGameDir(dir: string, marker: string): void {
  mkdirSync(join(dir, 'world', 'region'), { recursive: true });
  writeFileSync(join(dir, 'server.properties'), 'level-name=world\nonline-mode=false\n');
  writeFileSync(join(dir, 'world', 'level.dat'), gzipSync(Buffer.from(`level of ${marker}`)));
  writeFileSync(join(dir, 'world', 'region', 'r.0.0.mca'), marker);
}

/** Writes a copy as the copy mechanism leaves one: archive.ts's verified write into `<dataDir>/servers/<id>/copies/ood-<ts>.tar.gz`. */
async function makeCopy(dataDir: string, ts: number, work: string): Promise<string> {
  const source = join(work, `game-${ts}`);
  makeGameDir(source, `copy ${ts}`);
  const file = join(dataDir, 'servers', 'world', 'copies', archiveName(ts));
  await writeArchive(source, file);
  return file;
}

/**
 * Issue 19 item 4 on `driver: digitalocean` (fake API, the real controller in process): a server's
 * copies on this machine are world versions beside its snapshots, newest first together; a copy
 * downloads, a snapshot is refused naming the newest copy, and `ood download` takes the newest copy.
 * No droplet is made: the snapshots are the fake account's, the copies written as the copy step writes them.
 */
describe('copies as world versions on DigitalOcean', () => {
  let world: DoWorld;
  let serving: Serving;
  let work: string;
  let snapshotIds: { base: string; old: string; stop: string };
  const copyTs = { play: NOW - 4_000, stop: NOW - 3_000, later: NOW - 1_000 };
  const env = () => ({ OOD_ADMIN_TOKEN: TEST_TOKEN });
  const versions = async () => {
    const res = await apiFor(serving.url).call('GET', '/api/servers/world/worlds');
    expect(res.status).toBe(200);
    return res.body.versions as Version[];
  };

  beforeAll(async () => {
    world = await makeDoWorld();
    work = join(world.dir, 'work');
    mkdirSync(work);
    const snap = (ts: number) => world.fake.addSnapshot({ name: `ood-${world.installation}-world-${ts}`, createdAt: new Date(ts * 1000).toISOString(), sizeGigabytes: 1 });
    const base = [...world.fake.state.snapshots.values()].map((s) => String(s.id));
    expect(base).toHaveLength(1);
    snapshotIds = { base: base[0]!, old: String(snap(NOW - 5_000).id), stop: String(snap(NOW - 2_990).id) };
    serving = await serveInProcess(world.configPath, world.env);
  }, 120_000);
  afterAll(async () => {
    await serving?.close();
    await world?.cleanup();
  });

  it('with no copy yet, a snapshot is refused saying none exists, and the page says so', async () => {
    const res = await apiFor(serving.url).call('GET', `/api/servers/world/worlds/do-${snapshotIds.stop}/download`);
    expect(res.status).toBe(422);
    expect(res.body.error).toBe(
      `Version do-${snapshotIds.stop} of "world" is a DigitalOcean snapshot, which cannot be downloaded (DigitalOcean only boots droplets from it), and no copy of world's world is on this machine yet: one is made during play and at each stop while backups are enabled`,
    );
    serving.controller.store.people.put('github:9', ['admin'], 'test', Date.now());
    const page = await (await loginAs(serving, 'github:9')).get('/servers/world');
    expect(page.text).toContain('A snapshot cannot be downloaded, and no copy is on this machine yet');
  });

  it('lists copies with the snapshots, newest first; the stop’s copy names its session, a play copy none', async () => {
    // One session: started at -4500 s, its final save (stop_game) at -3100 s, gone at -2980 s, ending in the second snapshot.
    const { store } = serving.controller;
    store.billing.open('world', 'digitalocean', 's-1vcpu-2gb', (NOW - 4_500) * 1000);
    store.sightings.saw('world', ['ann'], (NOW - 4_400) * 1000);
    store.billing.addPlayerSeconds('world', 600);
    store.journal.record('world', 'stopping', 'stop_game', 'Saved and stopped the game', (NOW - 3_100) * 1000);
    store.journal.record('world', 'snapshotting', 'snapshot', `Snapshot ood-${world.installation}-world-${NOW - 2_990}`, (NOW - 2_995) * 1000);
    store.billing.close('world', (NOW - 2_980) * 1000);
    for (const ts of Object.values(copyTs)) await makeCopy(world.dataDir, ts, work);
    // A copy being written is a .partial beside them: never a version.
    writeFileSync(join(world.dataDir, 'servers', 'world', 'copies', `.${NOW}-1.partial`), 'half a copy');

    const listed = await versions();
    // The base image makeDoWorld seeds was made (by the fake's clock) when the test began: the newest.
    expect(listed.map((v) => [v.id, v.where, v.next])).toEqual([
      [`do-${snapshotIds.base}`, 'DigitalOcean snapshot', true],
      [`copy-${copyTs.later}`, 'local copy', false],
      [`do-${snapshotIds.stop}`, 'DigitalOcean snapshot', false],
      [`copy-${copyTs.stop}`, 'local copy', false],
      [`copy-${copyTs.play}`, 'local copy', false],
      [`do-${snapshotIds.old}`, 'DigitalOcean snapshot', false],
    ]);
    const byId = new Map(listed.map((v) => [v.id, v]));
    expect(byId.get(`copy-${copyTs.stop}`)!.session).toMatchObject({ players: ['ann'], duration: 1_520 });
    expect(byId.get(`do-${snapshotIds.stop}`)!.session).toMatchObject({ players: ['ann'] });
    expect(byId.get(`copy-${copyTs.play}`)!.session).toBeNull();
    expect(byId.get(`copy-${copyTs.later}`)!.session).toBeNull();
    expect(byId.get(`copy-${copyTs.stop}`)!.bytes).toBe(statSync(join(world.dataDir, 'servers', 'world', 'copies', archiveName(copyTs.stop))).size);

    const cli = await ood(['-c', world.configPath, '--url', serving.url, 'worlds', 'world'], { env: env() });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`\\ncopy-${copyTs.stop} .* local copy +unknown; ann; 25 min\\n`));
    expect(cli.stdout).toMatch(new RegExp(`\\ncopy-${copyTs.play} .* local copy +-\\n`));
    expect(cli.stdout).toContain(`Snapshots cannot be downloaded; copies can: \`ood download world\` gets the newest, copy-${copyTs.later}`);
  });

  it('a standing choice of a copy (chosen-world.json) makes it the next start’s, not a snapshot', async () => {
    const root = join(world.dataDir, 'servers', 'world');
    await chooseArchive(root, { archive: archiveName(copyTs.play), ts: copyTs.play, chosenAt: new Date().toISOString(), by: 'test' });
    try {
      const listed = await versions();
      expect(listed.filter((v) => v.next).map((v) => [v.id, v.chosen])).toEqual([[`copy-${copyTs.play}`, true]]);
    } finally {
      await chooseArchive(root, { archive: archiveName(copyTs.play), ts: copyTs.play, chosenAt: new Date().toISOString(), by: 'test', savedAgain: new Date().toISOString() });
    }
    expect((await versions()).filter((v) => v.next).map((v) => v.id)).toEqual([`do-${snapshotIds.base}`]);
  });

  it('a copy downloads as a world; a snapshot is a 422 naming the newest copy; the page links it', async () => {
    const res = await fetch(`${serving.url}/api/servers/world/worlds/copy-${copyTs.stop}/download`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ood-version')).toBe(`copy-${copyTs.stop}`);
    const file = join(work, 'stop-copy.tar.gz');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const into = join(work, 'stop-copy');
    mkdirSync(into);
    await tar.x({ file, cwd: into, strict: true });
    expect(readdirSync(join(into, 'world')).sort()).toEqual(['level.dat', 'region']);

    const refused = await apiFor(serving.url).call('GET', `/api/servers/world/worlds/do-${snapshotIds.old}/download`);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toBe(
      `Version do-${snapshotIds.old} of "world" is a DigitalOcean snapshot, which cannot be downloaded (DigitalOcean only boots droplets from it); the newest copy of world's world on this machine is copy-${copyTs.later}, made ${new Date(copyTs.later * 1000).toISOString()}: get it with \`ood download world copy-${copyTs.later} -o FILE\``,
    );

    const page = await (await loginAs(serving, 'github:9')).get('/servers/world');
    expect(page.text).toContain(`<a href="/api/servers/world/worlds/copy-${copyTs.stop}/download" download>Download copy-${copyTs.stop} (.tar.gz)</a>`);
    expect(page.text).toContain(`<a href="/api/servers/world/worlds/copy-${copyTs.later}/download" download>Download the newest copy, copy-${copyTs.later} (.tar.gz)</a>`);
    expect(page.text).not.toContain(`worlds/do-${snapshotIds.old}/download`);
  });

  it('`ood download world` with no version gets the newest copy', async () => {
    const file = join(work, 'newest.tar.gz');
    const cli = await ood(['-c', world.configPath, '--url', serving.url, 'download', 'world', '-o', file], { env: env() });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^Saved world's world version copy-${copyTs.later} to ${file} `));
    const regions: string[] = [];
    await tar.t({ file, onReadEntry: (e) => void (e.path === 'world/region/r.0.0.mca' && regions.push(e.path)) });
    expect(regions).toEqual(['world/region/r.0.0.mca']);
    const into = join(work, 'newest');
    mkdirSync(into);
    await tar.x({ file, cwd: into, strict: true });
    expect(readdirSync(join(into, 'world'))).toContain('level.dat');
  });

  it("the cost meter's disk figure grows by a copy's bytes, in /api/cost and `ood cost`", async () => {
    const api = apiFor(serving.url);
    const before = (await api.call('GET', '/api/cost')).body.disk as { bytes: number; archives: number; copies: number };
    const copiesNow = readdirSync(join(world.dataDir, 'servers', 'world', 'copies'))
      .filter((n) => n.endsWith('.tar.gz'))
      .reduce((sum, n) => sum + statSync(join(world.dataDir, 'servers', 'world', 'copies', n)).size, 0);
    expect(before).toEqual({ bytes: copiesNow, archives: 0, copies: copiesNow });
    const added = statSync(await makeCopy(world.dataDir, NOW - 10, work)).size;
    // The meter keeps a month's figures for a second.
    await new Promise((r) => setTimeout(r, 1_100));
    const after = (await api.call('GET', '/api/cost')).body.disk as { bytes: number; copies: number };
    expect(after.copies - before.copies).toBe(added);
    expect(after.bytes - before.bytes).toBe(added);
    const cli = await ood(['-c', world.configPath, '--url', serving.url, 'cost'], { env: env() });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/\n {2}world versions on this machine \d+(\.\d+)? KB \(archives 0 B, copies \d+(\.\d+)? KB\)\n/);
    // The overview's cost line says the same.
    const overview = await (await loginAs(serving, 'github:9')).get('/');
    expect(overview.text).toMatch(/<p class="cost">This month: .*; world versions on this machine \d+(\.\d+)? KB \(archives 0 B, copies \d+(\.\d+)? KB\)/);
  });
});

/** A local server with backups on lists its copies beside its archives; its copies are counted on the disk too. */
describe('copies of a local server', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome({ server: { backups: { enabled: true } } });
    const work = join(home.dir, 'work');
    makeGameDir(join(work, 'host'), 'archive');
    await writeArchive(join(work, 'host'), join(home.archiveDir(), archiveName(NOW - 600)));
    await makeCopy(home.dataDir, NOW - 300, work);
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('lists both, newest first; the archive stays the next start’s; a copy downloads; the page offers no restore of a copy', async () => {
    const res = await apiFor(serving.url).call('GET', '/api/servers/world/worlds');
    expect((res.body.versions as Version[]).map((v) => [v.id, v.where, v.next])).toEqual([
      [`copy-${NOW - 300}`, 'local copy', false],
      [`ood-${NOW - 600}`, 'local archive', true],
    ]);
    const download = await fetch(`${serving.url}/api/servers/world/worlds/copy-${NOW - 300}/download`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(download.status).toBe(200);
    await download.arrayBuffer();
    const disk = (await apiFor(serving.url).call('GET', '/api/cost')).body.disk as { archives: number; copies: number };
    expect(disk.archives).toBe(statSync(join(home.archiveDir(), archiveName(NOW - 600))).size);
    expect(disk.copies).toBe(statSync(join(home.dataDir, 'servers', 'world', 'copies', archiveName(NOW - 300))).size);
    serving.controller.store.people.put('github:9', ['admin'], 'test', Date.now());
    const page = await (await loginAs(serving, 'github:9')).get('/servers/world');
    expect(page.text).toContain(`Download copy-${NOW - 300} (.tar.gz)`);
    expect(page.text).not.toContain(`/worlds/copy-${NOW - 300}/restore`);
  });

  it('a restore of a local copy is refused (409) with the way to start from it: download, then upload', async () => {
    const res = await apiFor(serving.url).call('POST', `/api/servers/world/worlds/copy-${NOW - 300}/restore`);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe(
      `Server world runs on this machine, where a start unpacks an archive, not a copy; to start from copy-${NOW - 300}, download it (ood download world copy-${NOW - 300} -o copy-${NOW - 300}.tar.gz) and upload that file (ood upload world copy-${NOW - 300}.tar.gz), which stores it as the newest archive and chooses it`,
    );
    expect((await apiFor(serving.url).call('GET', '/api/servers/world/worlds')).body.versions).toEqual(expect.arrayContaining([expect.objectContaining({ id: `ood-${NOW - 600}`, next: true, chosen: false })]));
  });
});
