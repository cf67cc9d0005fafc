import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { Vec3 } from 'vec3';
import nbt from 'prismarine-nbt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { writeArchive } from '../controller/drivers/local/archive.js';
import { worldVersionsSection } from '../controller/web/pages/world-versions.js';
import type { WorldVersion } from '../controller/worlds/versions.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { launchBrowser } from './helpers/browser.js';
import { loginAs } from './helpers/web-client.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { ood } from './helpers/ood-cli.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

/** A real Java level.dat: gzip of big-endian NBT with a Data compound, as the game writes one. */
function levelDat(name: string): Buffer {
  return gzipSync(nbt.writeUncompressed({ type: 'compound', name: '', value: { Data: { type: 'compound', value: { LevelName: { type: 'string', value: name } } } } }));
}

/** tar-stream (flying-squid's, untyped): only what these tests call. */
interface TarPack extends NodeJS.ReadableStream {
  entry(header: Record<string, unknown>, body: Buffer, done: (err?: Error | null) => void): void;
  finalize(): void;
}
const tarStream = createRequire(import.meta.url)('tar-stream') as { pack(): TarPack };

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo'; body?: Buffer; linkname?: string };

/** A .tar.gz made entry by entry with tar-stream, so the test can write what no honest tar would (`..`, devices, absolute paths). */
async function tarGz(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => pack.on('end', resolve));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, devmajor: 1, devminor: 3, mode: e.type === 'directory' ? 0o755 : 0o644 }, e.body ?? Buffer.alloc(0), (err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}

const goodWorld = (marker: string): Entry[] => [
  { name: 'world/level.dat', body: levelDat(marker) },
  { name: 'world/region/r.0.0.mca', body: Buffer.from(marker) },
];

/** POSTs `body` as the upload; `chunked` leaves out Content-Length so only the streamed count can stop it. */
function upload(url: string, body: Buffer, o: { type?: string; chunked?: boolean } = {}): Promise<{ status: number; body: { error?: string; uploaded?: { id: string; next: boolean; chosen: boolean } } }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': o.type ?? 'application/gzip' };
    if (!o.chunked) headers['content-length'] = String(body.length);
    const req = request(new URL('/api/servers/world/worlds/upload', url), { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as never }));
      res.on('error', reject);
    });
    // A refusal before the whole body is sent may close the connection under the rest of it: the answer is what counts.
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 64 << 10) req.write(body.subarray(i, i + (64 << 10)));
    req.end();
  });
}

/** Upload checks (issue 19 item 5): each bad upload a 400/413/415 naming the problem with nothing stored; a good one becomes the next start's world. */
describe('POST /api/servers/:id/worlds/upload on a local server', () => {
  let home: OodHome;
  let serving: Serving;
  const uploadsDir = () => join(home.dataDir, 'servers', 'world', 'uploads');
  const archives = () => readdirSync(home.archiveDir()).filter((n) => n.endsWith('.tar.gz')).sort();
  const chosenFile = () => join(home.dataDir, 'servers', 'world', 'chosen-world.json');

  beforeAll(async () => {
    // A game that never answers: the test reads the started host's files, which provision writes.
    home = await makeOodHome({ command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], config: { worlds: { maxUpload: '1MB' } } });
    const made = join(home.dir, 'made');
    mkdirSync(join(made, 'world'), { recursive: true });
    writeFileSync(join(made, 'world', 'level.dat'), levelDat('before'));
    // The game's settings of the world an upload replaces: kept for the uploaded one, but for the folder it names.
    writeFileSync(join(made, 'server.properties'), 'online-mode=false\nmotd=kept from before\nlevel-name=world\n');
    await writeArchive(made, join(home.archiveDir(), 'ood-1800000000.tar.gz'));
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('refuses every bad upload with a message naming the problem, storing nothing and leaving the versions as they were', async () => {
    const before = archives();
    // What a controller killed in the middle of an upload leaves: removed by the next upload.
    mkdirSync(join(uploadsDir(), 'staging-dead', 'world'), { recursive: true });
    writeFileSync(join(uploadsDir(), 'upload-1-dead.tar.gz.partial'), 'cut off');
    const good = await tarGz(goodWorld('good'));
    const cases: [string, Buffer, number, RegExp, { type?: string; chunked?: boolean }?][] = [
      ['zip-slip', await tarGz([...goodWorld('x'), { name: '../../etc/x', body: Buffer.from('x') }]), 400, /entry \.\.\/\.\.\/etc\/x leaves the world folder/],
      ['symlink', await tarGz([...goodWorld('x'), { name: 'world/evil', type: 'symlink', linkname: '/etc/passwd' }]), 400, /entry world\/evil is a symbolic link to "\/etc\/passwd"; a world holds only files and folders/],
      ['hard link', await tarGz([...goodWorld('x'), { name: 'world/hard', type: 'link', linkname: 'world/level.dat' }]), 400, /entry world\/hard is a hard link/],
      ['absolute path', await tarGz([...goodWorld('x'), { name: '/tmp/ood-upload-absolute', body: Buffer.from('x') }]), 400, /entry \/tmp\/ood-upload-absolute is an absolute path/],
      ['character device', await tarGz([...goodWorld('x'), { name: 'world/null', type: 'character-device' }]), 400, /entry world\/null is a device file \(character device\)/],
      ['block device', await tarGz([...goodWorld('x'), { name: 'world/sda', type: 'block-device' }]), 400, /entry world\/sda is a device file \(block device\)/],
      ['fifo', await tarGz([...goodWorld('x'), { name: 'world/pipe', type: 'fifo' }]), 400, /entry world\/pipe is a FIFO/],
      ['no level.dat', await tarGz([{ name: 'world/region/r.0.0.mca', body: Buffer.from('x') }]), 400, /holds no level\.dat at its top or one folder down/],
      ['truncated gzip', good.subarray(0, good.length - 20), 400, /is not a whole \.tar\.gz file \(gzip: /],
      ['not gzip at all', Buffer.from('hello, this is not a world'), 400, /is not a whole \.tar\.gz file/],
      ['level.dat not gzip', await tarGz([{ name: 'world/level.dat', body: Buffer.from('plain text') }]), 400, /world\/level\.dat is not gzip-compressed/],
      ['level.dat not NBT', await tarGz([{ name: 'world/level.dat', body: gzipSync(Buffer.from('\x0a\x00\x00\x63garbage')) }]), 400, /world\/level\.dat is not NBT data|world\/level\.dat is NBT but has no Data compound/],
      ['maxUpload + 1 byte (declared)', randomBytes((1 << 20) + 1), 413, /larger than worlds\.maxUpload \(1MB; it is 1\.0MB\)/],
      ['maxUpload + 1 byte (chunked)', randomBytes((1 << 20) + 1), 413, /larger than worlds\.maxUpload \(1MB\)/, { chunked: true }],
      // Far past the cap: the answer still arrives although the rest of the body is never read.
      ['32 MB, chunked', randomBytes(32 << 20), 413, /larger than worlds\.maxUpload \(1MB\)/, { chunked: true }],
      ['32 MB, declared', randomBytes(32 << 20), 413, /larger than worlds\.maxUpload \(1MB; it is 32MB\)/],
      // A .zip is read as one (world-upload-zip.test.ts): a .tar.gz sent as application/zip is not one.
      ['a .tar.gz sent as a zip', good, 400, /the upload is not a whole \.zip file/, { type: 'application/zip' }],
      ['another type', good, 415, /the body's Content-Type is "application\/x-7z-compressed"; send a \.tar\.gz as application\/gzip, or a \.zip as application\/zip/, { type: 'application/x-7z-compressed' }],
    ];
    for (const [what, body, status, message, options] of cases) {
      const answer = await upload(serving.url, body, options);
      expect([what, answer.status, answer.body.error]).toEqual([what, status, expect.stringMatching(message)]);
      expect(existsSync(uploadsDir()) ? readdirSync(uploadsDir()) : [], what).toEqual([]);
      expect(archives(), what).toEqual(before);
      expect(existsSync(chosenFile()), what).toBe(false);
    }
    expect(existsSync('/tmp/ood-upload-absolute')).toBe(false);
  });

  it('stores a good upload as the newest version, chosen, audited and journalled; the next start unpacks it; nothing before it is deleted', async () => {
    const api = apiFor(serving.url);
    const marker = randomBytes(8).toString('hex');
    // The world one folder down, beside a file that is not part of it.
    const body = await tarGz([
      { name: 'saves/', type: 'directory' },
      { name: 'saves/level.dat', body: levelDat(marker) },
      { name: 'saves/region/r.0.0.mca', body: Buffer.from(marker) },
      { name: 'README.txt', body: Buffer.from('not the world') },
    ]);
    const answer = await upload(serving.url, body);
    expect(answer.status).toBe(201);
    expect(answer.body.uploaded).toMatchObject({ next: true, chosen: true });
    const versions = (await api.call('GET', '/api/servers/world/worlds')).body.versions as { id: string; next: boolean }[];
    expect(versions.map((v) => [v.id, v.next])).toEqual([
      [answer.body.uploaded!.id, true],
      ['ood-1800000000', false],
    ]);
    const journal = await api.journal();
    expect(journal.some((j) => j.step === 'upload' && j.detail?.includes(`${answer.body.uploaded!.id}.tar.gz`) && j.detail.includes('world folder saves/'))).toBe(true);
    expect(serving.controller.store.audit.list(20).find((a) => a.action === 'world uploaded')).toMatchObject({ actor: 'admin-token', server: 'world' });
    expect(readdirSync(uploadsDir())).toEqual([]);

    // The CLI: a folder is tarred on the fly; it becomes the next start's world instead.
    const folder = join(home.dir, 'cli-world');
    mkdirSync(join(folder, 'region'), { recursive: true });
    writeFileSync(join(folder, 'level.dat'), levelDat(`cli-${marker}`));
    writeFileSync(join(folder, 'region', 'r.0.0.mca'), `cli-${marker}`);
    const cli = { env: { OOD_ADMIN_TOKEN: TEST_TOKEN, OOD_URL: serving.url }, cwd: home.dir };
    const fromFolder = await ood(['upload', 'world', folder], cli);
    expect(fromFolder.stderr).toBe('');
    expect(fromFolder.stdout).toMatch(/^world's next start boots ood-\d+\.tar\.gz, uploaded from .*cli-world \(\d+(\.\d+)? ?K?B\); the versions before it are kept\n/);
    const bad = join(home.dir, 'bad.tar.gz');
    writeFileSync(bad, await tarGz([{ name: 'world/region/r.0.0.mca', body: Buffer.from('x') }]));
    const refused = await ood(['upload', 'world', bad], cli);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/failed with 400: the upload holds no level\.dat/);
    // The API's upload goes back to being the next start's world, through the restore it is.
    expect((await api.call('POST', `/api/servers/world/worlds/${answer.body.uploaded!.id}/restore`)).status).toBe(200);
    expect(archives()).toHaveLength(3);

    await api.start();
    await waitUntil('the host to be made', () => existsSync(join(home.hostDir(), 'world', 'level.dat')), 30_000);
    expect(readFileSync(join(home.hostDir(), 'world', 'region', 'r.0.0.mca'), 'utf8')).toBe(marker);
    expect(nbt.simplify((await nbt.parse(readFileSync(join(home.hostDir(), 'world', 'level.dat')))).parsed)).toEqual({ Data: { LevelName: marker } });
    expect(existsSync(join(home.hostDir(), 'README.txt'))).toBe(false);
    const props = readFileSync(join(home.hostDir(), 'server.properties'), 'utf8');
    expect(props).toMatch(/^motd=kept from before$/m);
    expect(props).toMatch(/^online-mode=false$/m);
    expect(props).toMatch(/^level-name=world$/m);

    const whileUp = await upload(serving.url, body);
    expect(whileUp.status).toBe(409);
    expect(whileUp.body.error).toMatch(/^Server world is \w+ and wanted up; a world is uploaded only while the server is archived/);
  });
});

describe('the upload form in the World versions section', () => {
  const version = (where: WorldVersion['where']): WorldVersion => ({ id: 'v1', name: 'v1', time: 1_800_000_000_000, bytes: 10, where, session: null, next: true, chosen: false, pinned: false });

  it('is there for admins of a local or a DigitalOcean server (with its script, posting to the API), and not for others', () => {
    const admin = worldVersionsSection('world', [version('local archive')], { admin: true, archived: true }).text;
    expect(admin).toContain('<form method="post" action="/api/servers/world/worlds/upload" enctype="application/octet-stream" data-world-upload>');
    expect(admin).toMatch(/<input type="file" name="world" accept="\.tar\.gz,\.tgz,\.zip,application\/gzip,application\/zip" required>/);
    expect(admin).toContain('<progress hidden');
    expect(admin).toContain('<script src="/static/world-upload.js" type="module"></script>');
    expect(worldVersionsSection('world', [], { admin: true, archived: false }).text).toMatch(/data-world-upload[\s\S]*Only while world is stopped and archived/);
    expect(worldVersionsSection('world', [version('local archive')], { admin: false, archived: true }).text).not.toContain('data-world-upload');
    expect(worldVersionsSection('world', [version('DigitalOcean snapshot')], { admin: true, archived: true }).text).toContain('data-world-upload');
  });
});

/** Issue 19's upload test on the local driver: a world made by the bundled game in another OoD home, uploaded as a folder, is what the next start runs (a mineflayer bot sees its marker block). */
describe('uploading a world made elsewhere (real game, real client)', () => {
  const A = new Vec3(2, 6, 2);
  const B = new Vec3(4, 6, 4);
  const homes: OodHome[] = [];
  const servings: Serving[] = [];
  afterAll(async () => {
    for (const s of servings) await s.close();
    for (const h of homes) await h.cleanup();
  });

  const session = async (home: OodHome, serving: Serving, name: string, place?: { at: Vec3; block: string }) => {
    const api = apiFor(serving.url);
    expect((await api.start()).status).toBe(202);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 90_000);
    const bot = await joinBot(home.gamePort, name);
    let seen: { a?: string; b?: string };
    try {
      await waitUntil('the chunk to load', () => bot.blockAt(A) !== null && bot.blockAt(B) !== null, 15_000);
      if (place) {
        bot.chat(`/setblock ${place.at.x} ${place.at.y} ${place.at.z} ${place.block}`);
        await waitUntil(`the ${place.block} to appear`, () => bot.blockAt(place.at)?.name === place.block, 10_000);
      }
      seen = { a: bot.blockAt(A)?.name, b: bot.blockAt(B)?.name };
    } finally {
      await leave(bot);
    }
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 90_000);
    return seen;
  };

  it('gold at A made elsewhere, diamond at B here; after the upload the next start shows gold at A and no diamond', async () => {
    const elsewhere = await makeOodHome();
    const here = await makeOodHome();
    homes.push(elsewhere, here);
    const [there, ours] = [await serveInProcess(elsewhere.configPath), await serveInProcess(here.configPath)];
    servings.push(there, ours);

    await session(elsewhere, there, 'ann', { at: A, block: 'gold_block' });
    expect(await session(here, ours, 'bob', { at: B, block: 'diamond_block' })).toEqual({ a: 'air', b: 'diamond_block' });

    // The other home's world folder, as a person would have it on disk.
    const unpacked = join(elsewhere.dir, 'unpacked');
    mkdirSync(unpacked);
    const [archive] = readdirSync(elsewhere.archiveDir()).filter((n) => n.endsWith('.tar.gz'));
    await tar.x({ file: join(elsewhere.archiveDir(), archive!), cwd: unpacked });
    const sent = await ood(['upload', 'world', join(unpacked, 'world')], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN, OOD_URL: ours.url }, cwd: here.dir });
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);

    expect(await session(here, ours, 'cat')).toEqual({ a: 'gold_block', b: 'air' });
    const versions = (await apiFor(ours.url).call('GET', '/api/servers/world/worlds')).body.versions as { id: string }[];
    expect(versions).toHaveLength(3); // bob's session, the upload, cat's session: nothing deleted
  });
});

/** The form in a real browser: the file goes up with a progress bar, the answer is said in words, and the new version is listed. */
describe('the upload form in Chromium', () => {
  let home: OodHome;
  let serving: Serving;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  beforeAll(async () => {
    home = await makeOodHome({ command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] });
    serving = await serveInProcess(home.configPath);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await serving?.close();
    await home?.cleanup();
  });

  it('uploads a world with progress, shows a refusal in words, and lists the upload as the next start', async () => {
    const admin = await loginAs(serving, LOCAL_ADMIN);
    const context = await browser!.newContext({ viewport: { width: 375, height: 800 } });
    await context.addCookies(admin.cookie.split('; ').map((pair) => {
      const [name, ...value] = pair.split('=');
      return { name: name!, value: value.join('='), url: serving.url };
    }));
    const page = await context.newPage();
    await page.goto(`${serving.url}/servers/world`);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const form = page.locator('form[data-world-upload]');
    const status = form.locator('[role="status"]');

    await form.locator('input[type="file"]').setInputFiles({ name: 'bad.tar.gz', mimeType: 'application/gzip', buffer: await tarGz([{ name: 'world/region/r.0.0.mca', body: Buffer.from('x') }]) });
    await form.locator('button').click();
    await form.locator('[role="status"]', { hasText: 'Not uploaded' }).waitFor();
    expect(await status.textContent()).toMatch(/^Not uploaded \(400\): the upload holds no level\.dat/);

    // Big enough for the browser to report progress on the way.
    const body = await tarGz([...goodWorld('browser'), { name: 'world/region/r.1.0.mca', body: randomBytes(3 << 20) }]);
    await form.locator('input[type="file"]').setInputFiles({ name: 'world.tar.gz', mimeType: 'application/gzip', buffer: body });
    await form.locator('button').click();
    await form.locator('[role="status"]', { hasText: 'Stored as' }).waitFor();
    expect(await status.textContent()).toMatch(/^Stored as ood-\d+; the next start boots it/);
    const bar = form.locator('progress');
    expect(await bar.isVisible()).toBe(true);
    const [value, max] = [Number(await bar.evaluate((p) => String((p as unknown as { value: number }).value))), Number(await bar.evaluate((p) => String((p as unknown as { max: number }).max)))];
    expect([value === max, max > 3_000_000]).toEqual([true, true]);
    // The page reloads itself a second later, and lists the upload as the next start's.
    await page.locator('section[aria-labelledby="worlds-title"] td', { hasText: 'the next start uses it' }).waitFor({ timeout: 10_000 });
    const versions = (await apiFor(serving.url).call('GET', '/api/servers/world/worlds')).body.versions as { id: string; next: boolean }[];
    expect(versions.map((v) => v.next)).toEqual([true]);
    await context.close();
  }, 60_000);
});
