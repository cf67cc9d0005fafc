import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { writeArchive } from '../controller/drivers/local/archive.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { loginAs } from './helpers/web-client.js';

/** The server page's "World versions" section, and the restore button's confirmation and form (CSRF, admins only). */
describe('world versions on the server page', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome({ command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] });
    for (const [i, text] of ['A', 'B', 'C'].entries()) {
      const world = join(home.dir, `made-${i}`);
      mkdirSync(join(world, 'world'), { recursive: true });
      writeFileSync(join(world, 'world', 'level.dat'), text);
      await writeArchive(world, join(home.archiveDir(), `ood-${1_800_000_000 + i}.tar.gz`));
    }
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('lists the versions, confirms a restore naming the newer ones left behind, and restores only with the CSRF token and as an admin', async () => {
    const admin = await loginAs(serving, LOCAL_ADMIN);
    const page = await admin.get('/servers/world');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h2 id="worlds-title">World versions</h2>');
    expect(page.text).toMatch(/ood-1800000002<\/small>.*the next start uses it/s);
    expect(page.text).toContain('href="/servers/world/worlds/ood-1800000000/restore"');

    const confirm = await admin.get('/servers/world/worlds/ood-1800000000/restore');
    expect(confirm.status).toBe(200);
    expect(confirm.text).toMatch(/These newer versions will be left behind\. They are kept, not deleted/);
    expect(confirm.text).toMatch(/<li>ood-1800000002, saved .*<li>ood-1800000001, saved /s);

    expect((await admin.post('/servers/world/worlds/ood-1800000000/restore', {}, { csrf: false })).status).toBe(403);
    const done = await admin.post('/servers/world/worlds/ood-1800000000/restore');
    expect(done.status).toBe(303);
    expect(done.location).toBe('/servers/world');
    expect((await admin.get('/servers/world')).text).toMatch(/ood-1800000000<\/small>.*the next start uses it; restored/s);

    serving.controller.store.people.put('github:2', ['start'], 'test', Date.now());
    const starter = await loginAs(serving, 'github:2');
    expect((await starter.get('/servers/world')).text).not.toContain('/worlds/ood-1800000001/restore');
    expect((await starter.post('/servers/world/worlds/ood-1800000001/restore')).status).toBe(403);
  });
});
