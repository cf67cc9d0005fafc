import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import nbt from 'prismarine-nbt';
import * as tar from 'tar';
import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { writeArchive } from '../controller/drivers/local/archive.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { launchBrowser } from './helpers/browser.js';
import { loginAs } from './helpers/web-client.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';
import { levelDat, makeZip, patchZipEntry, postUpload, renameInZip, withZip64EntryCount, zipLayout, type ZipEntry } from './helpers/upload-body.js';
import { waitUntil } from './helpers/wait.js';

const ZIP = { type: 'application/zip' };

const goodWorld = (marker: string, folder = 'world'): ZipEntry[] => [
  { name: `${folder}/`, directory: true },
  { name: `${folder}/level.dat`, body: levelDat(marker) },
  { name: `${folder}/region/r.0.0.mca`, body: Buffer.from(marker) },
];

/** A .zip upload (issue 19 item 5) gets the .tar.gz's checks and storage, plus what only a zip can get wrong. */
describe('POST /api/servers/:id/worlds/upload with a .zip on a local server', () => {
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
    writeFileSync(join(made, 'server.properties'), 'online-mode=false\nmotd=kept from before\nlevel-name=world\n');
    await writeArchive(made, join(home.archiveDir(), 'ood-1800000000.tar.gz'));
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('refuses every bad zip with a 400/413 naming the problem, storing nothing and leaving the versions as they were', async () => {
    const before = archives();
    const good = await makeZip(goodWorld('good'));
    const { centralOffset } = zipLayout(good);
    const eocd = good.subarray(zipLayout(good).eocd);
    const region = await makeZip([...goodWorld('x'), { name: 'world/region/r.1.0.mca', body: Buffer.alloc(200_000, 7) }]);
    const cases: [string, Buffer, number, RegExp, { type: string; chunked?: boolean }?][] = [
      ['zip-slip', renameInZip(await makeZip([...goodWorld('x'), { name: 'zz/zz/etc/x', body: Buffer.from('x') }]), 'zz/zz/etc/x', '../../etc/x'), 400, /^entry \.\.\/\.\.\/etc\/x leaves the world folder/],
      ['zip-slip with backslashes (as Windows names)', renameInZip(await makeZip([...goodWorld('x'), { name: 'zz/zz/evil', body: Buffer.from('x') }]), 'zz/zz/evil', '..\\..\\evil'), 400, /^entry \.\.\/\.\.\/evil leaves the world folder/],
      ['absolute path', renameInZip(await makeZip([...goodWorld('x'), { name: 'xtmp/ood-zip-absolute', body: Buffer.from('x') }]), 'xtmp/ood-zip-absolute', '/tmp/ood-zip-absolute'), 400, /^entry \/tmp\/ood-zip-absolute is an absolute path/],
      ['symlink entry', await makeZip([...goodWorld('x'), { name: 'world/evil', body: Buffer.from('/etc/passwd'), mode: 0o120777 }]), 400, /^entry world\/evil is a symbolic link to "\/etc\/passwd"; a world holds only files and folders/],
      ['device entry', await makeZip([...goodWorld('x'), { name: 'world/null', mode: 0o020666 }]), 400, /^entry world\/null is a device file \(character device\)/],
      ['no level.dat', await makeZip([{ name: 'world/region/r.0.0.mca', body: Buffer.from('x') }]), 400, /holds no level\.dat at its top or one folder down/],
      ['truncated file', good.subarray(0, good.length - 10), 400, /^the upload is not a whole \.zip file \(End of central directory record signature not found/],
      ['truncated central directory', Buffer.concat([good.subarray(0, centralOffset + 30), eocd]), 400, /^the upload is not a whole \.zip file \(/],
      ['a .tar.gz sent as a zip', gzipSync(Buffer.from('not a zip')), 400, /^the upload is not a whole \.zip file \(/],
      ['level.dat not gzip', await makeZip([{ name: 'world/level.dat', body: Buffer.from('plain text') }]), 400, /^world\/level\.dat is not gzip-compressed/],
      ['encrypted entry', patchZipEntry(good, 'world/level.dat', { flags: 1 }), 400, /^entry world\/level\.dat is encrypted; zip the world again without a password/],
      ['unknown compression method', patchZipEntry(good, 'world/level.dat', { method: 12 }), 400, /^entry world\/level\.dat is compressed with zip method 12/],
      ['a declared size that lies (a bomb that says it is small)', patchZipEntry(region, 'world/region/r.1.0.mca', { uncompressedSize: 1000 }), 400, /^entry world\/region\/r\.1\.0\.mca does not hold the size the zip declares for it/],
      ['a changed byte (CRC-32)', patchZipEntry(good, 'world/region/r.0.0.mca', { crc: 0x12345678 }), 400, /^entry world\/region\/r\.0\.0\.mca is damaged \(its CRC-32 does not match its data\)/],
      ['the same name twice', await makeZip([...goodWorld('x'), { name: 'world/region/r.0.0.mca', body: Buffer.from('second') }]), 400, /^entry world\/region\/r\.0\.0\.mca is in the zip twice/],
      ['a file that is also a folder', await makeZip([...goodWorld('x'), { name: 'world/region', body: Buffer.from('file') }]), 400, /^entry world\/region is a file in the zip and also a folder of other entries/],
      // 11 MB of zeros deflate to ~11 KB: past the unpacked cap (10 × 1MB), refused before it is inflated.
      ['a zip bomb past the unpacked cap', await makeZip([...goodWorld('x'), { name: 'world/zeros', body: Buffer.alloc(11 << 20) }]), 400, /^the upload unpacks to more than 10MB \(10 × worlds\.maxUpload\)/],
      ['more entries than any world has', withZip64EntryCount(await makeZip(goodWorld('x'), { zip64: true }), 200_001), 400, /^the zip holds 200001 entries, more than 200000; no world has that many files/],
      ['maxUpload + 1 byte (declared)', randomBytes((1 << 20) + 1), 413, /larger than worlds\.maxUpload \(1MB; it is 1\.0MB\)/],
      ['maxUpload + 1 byte (chunked)', randomBytes((1 << 20) + 1), 413, /larger than worlds\.maxUpload \(1MB\)/, { ...ZIP, chunked: true }],
    ];
    for (const [what, body, status, message, options] of cases) {
      const answer = await postUpload(serving.url, body, options ?? ZIP);
      expect([what, answer.status, answer.body.error]).toEqual([what, status, expect.stringMatching(message)]);
      expect(existsSync(uploadsDir()) ? readdirSync(uploadsDir()) : [], what).toEqual([]);
      expect(archives(), what).toEqual(before);
      expect(existsSync(chosenFile()), what).toBe(false);
    }
    expect(existsSync('/tmp/ood-zip-absolute')).toBe(false);
    expect(existsSync(join(home.dataDir, 'servers', 'evil'))).toBe(false);
  });

  it('stores a good zip (world at the top, or one folder down) as the newest version, chosen; `ood upload` sends a .zip; the next start unpacks it', async () => {
    const api = apiFor(serving.url);
    const top = randomBytes(8).toString('hex');
    // The world at the top, as application/x-zip-compressed (what Windows browsers send), with Zip64 end records.
    const atTop = await postUpload(serving.url, await makeZip([{ name: 'level.dat', body: levelDat(top) }, { name: 'region/r.0.0.mca', body: Buffer.from(top) }], { zip64: true }), { type: 'application/x-zip-compressed' });
    expect([atTop.status, atTop.body.folder, atTop.body.uploaded]).toEqual([201, '', expect.objectContaining({ next: true, chosen: true })]);

    // One folder down, beside what a Mac's zip adds (__MACOSX/) and a file that is not part of it; one
    // entry named with backslashes, as zips made on Windows may be; stored (not deflated) entries too.
    const marker = randomBytes(8).toString('hex');
    const oneDown = renameInZip(
      await makeZip([
        { name: 'My World/level.dat', body: levelDat(marker) },
        { name: 'My World/region/r.0.0.mca', body: Buffer.from(marker), compress: false },
        { name: 'My World/data/raids.dat', body: Buffer.from('raids') },
        { name: '__MACOSX/My World/._level.dat', body: Buffer.from('resource fork') },
        { name: 'README.txt', body: Buffer.from('not the world') },
      ]),
      'My World/data/raids.dat',
      'My World\\data\\raids.dat',
    );
    const file = join(home.dir, 'world.zip');
    writeFileSync(file, oneDown);
    const cli = await ood(['upload', 'world', file], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN, OOD_URL: serving.url }, cwd: home.dir });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/^world's next start boots ood-\d+\.tar\.gz, uploaded from .*world\.zip \(\d+(\.\d+)? ?K?B\); the versions before it are kept\n/);
    const versions = (await api.call('GET', '/api/servers/world/worlds')).body.versions as { id: string; next: boolean }[];
    expect(versions.map((v) => v.next)).toEqual([true, false, false]);
    expect(versions[1]!.id).toBe(atTop.body.uploaded!.id);
    const journal = await api.journal();
    expect(journal.some((j) => j.step === 'upload' && j.detail?.includes(`${versions[0]!.id}.tar.gz`) && j.detail.includes('world folder My World/'))).toBe(true);
    expect(readdirSync(uploadsDir())).toEqual([]);

    await api.start();
    await waitUntil('the host to be made', () => existsSync(join(home.hostDir(), 'world', 'level.dat')), 30_000);
    const world = join(home.hostDir(), 'world');
    expect(readFileSync(join(world, 'region', 'r.0.0.mca'), 'utf8')).toBe(marker);
    expect(readFileSync(join(world, 'data', 'raids.dat'), 'utf8')).toBe('raids');
    expect(nbt.simplify((await nbt.parse(readFileSync(join(world, 'level.dat')))).parsed)).toEqual({ Data: { LevelName: marker } });
    expect(readdirSync(world).sort()).toEqual(['data', 'level.dat', 'region']);
    expect(existsSync(join(home.hostDir(), 'README.txt'))).toBe(false);
    expect(readFileSync(join(home.hostDir(), 'server.properties'), 'utf8')).toMatch(/^motd=kept from before$/m);
  });
});

/** The form in Chromium at 375 px with a .zip: it goes up as application/zip, with progress, and is listed as the next start's. */
describe('the upload form in Chromium, with a .zip', () => {
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

  it('says a bad zip\'s problem in words, and stores a good one as the next start\'s world', async () => {
    const admin = await loginAs(serving, LOCAL_ADMIN);
    const context = await browser!.newContext({ viewport: { width: 375, height: 800 } });
    await context.addCookies(admin.cookie.split('; ').map((pair) => {
      const [name, ...value] = pair.split('=');
      return { name: name!, value: value.join('='), url: serving.url };
    }));
    const page = await context.newPage();
    await page.goto(`${serving.url}/servers/world`);
    const form = page.locator('form[data-world-upload]');
    const status = form.locator('[role="status"]');

    const slip = renameInZip(await makeZip([...goodWorld('x'), { name: 'zz/evil', body: Buffer.from('x') }]), 'zz/evil', '../evil');
    await form.locator('input[type="file"]').setInputFiles({ name: 'bad.zip', mimeType: 'application/zip', buffer: slip });
    await form.locator('button').click();
    await form.locator('[role="status"]', { hasText: 'Not uploaded' }).waitFor();
    expect(await status.textContent()).toBe('Not uploaded (400): entry ../evil leaves the world folder (it contains "..")');

    const body = await makeZip([...goodWorld('browser'), { name: 'world/region/r.1.0.mca', body: randomBytes(3 << 20), compress: false }]);
    await form.locator('input[type="file"]').setInputFiles({ name: 'world.zip', mimeType: 'application/zip', buffer: body });
    await form.locator('button').click();
    await form.locator('[role="status"]', { hasText: 'Stored as' }).waitFor();
    expect(await status.textContent()).toMatch(/^Stored as ood-\d+; the next start boots it/);
    const bar = form.locator('progress');
    expect(Number(await bar.evaluate((p) => String((p as unknown as { value: number }).value)))).toBeGreaterThan(3_000_000);
    await page.locator('section[aria-labelledby="worlds-title"] td', { hasText: 'the next start uses it' }).waitFor({ timeout: 10_000 });
    const versions = (await apiFor(serving.url).call('GET', '/api/servers/world/worlds')).body.versions as { id: string; bytes: number; next: boolean }[];
    expect(versions.map((v) => v.next)).toEqual([true]);
    await context.close();
  }, 60_000);
});

/** Issue 19's upload test with a .zip: a world made by the bundled game in another OoD home, zipped (as a person would), is what the next start runs. */
describe('uploading a zipped world made elsewhere (real game, real client)', () => {
  const A = new Vec3(2, 6, 2);
  const homes: OodHome[] = [];
  const servings: Serving[] = [];
  afterAll(async () => {
    for (const s of servings) await s.close();
    for (const h of homes) await h.cleanup();
  });

  /** One session: start, a bot joins (and places a block), reads the block at A, leaves, stop, archived. */
  const session = async (home: OodHome, serving: Serving, name: string, place?: string) => {
    const api = apiFor(serving.url);
    expect((await api.start()).status).toBe(202);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 90_000);
    const bot = await joinBot(home.gamePort, name);
    let seen: string | undefined;
    try {
      await waitUntil('the chunk to load', () => bot.blockAt(A) !== null, 15_000);
      if (place) {
        bot.chat(`/setblock ${A.x} ${A.y} ${A.z} ${place}`);
        await waitUntil(`the ${place} to appear`, () => bot.blockAt(A)?.name === place, 10_000);
      }
      seen = bot.blockAt(A)?.name;
    } finally {
      await leave(bot);
    }
    expect((await api.stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 90_000);
    return seen;
  };

  it('gold at A made elsewhere; after `ood upload <server> world.zip` the next start here shows it', async () => {
    const elsewhere = await makeOodHome();
    const here = await makeOodHome();
    homes.push(elsewhere, here);
    const [there, ours] = [await serveInProcess(elsewhere.configPath), await serveInProcess(here.configPath)];
    servings.push(there, ours);
    await session(elsewhere, there, 'ann', 'gold_block');

    // The other home's world folder, zipped one folder down as a person would zip it.
    const unpacked = join(elsewhere.dir, 'unpacked');
    mkdirSync(unpacked);
    const [archive] = readdirSync(elsewhere.archiveDir()).filter((n) => n.endsWith('.tar.gz'));
    await tar.x({ file: join(elsewhere.archiveDir(), archive!), cwd: unpacked });
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(join(unpacked, 'world'));
    expect(files.some((f) => f.endsWith('level.dat'))).toBe(true);
    const zip = join(here.dir, 'world.zip');
    writeFileSync(zip, await makeZip(files.map((f) => ({ name: `Gold World/${relative(join(unpacked, 'world'), f)}`, body: readFileSync(f) }))));
    const sent = await ood(['upload', 'world', zip], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN, OOD_URL: ours.url }, cwd: here.dir });
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);

    expect(await session(here, ours, 'bob')).toBe('gold_block');
  }, 300_000);
});
