import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { writeArchive } from '../controller/drivers/local/archive.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { ood } from './helpers/ood-cli.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

/** The versions list and restore through the API, on a local server: the choice, the audit, the journal, and the 409 while a host exists. */
describe('GET /api/servers/:id/worlds and POST …/worlds/:v/restore', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    // A game that never answers: a start stays in booting, which is all the 409 needs.
    home = await makeOodHome({ command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] });
    for (const [i, text] of ['A', 'B'].entries()) {
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

  it('lists versions newest first, restores an older one (audited, journalled), and refuses with 409 while the server is not archived', async () => {
    const api = apiFor(serving.url);
    const listed = await api.call('GET', '/api/servers/world/worlds');
    expect(listed.status).toBe(200);
    const versions = listed.body.versions as { id: string; where: string; next: boolean; chosen: boolean; time: string; bytes: number; file?: string }[];
    expect(versions.map((v) => [v.id, v.where, v.next, v.chosen])).toEqual([
      ['ood-1800000001', 'local archive', true, false],
      ['ood-1800000000', 'local archive', false, false],
    ]);
    expect(versions[0]!.time).toBe(new Date(1_800_000_001_000).toISOString());
    expect(versions[0]!.file).toBeUndefined();

    expect((await api.call('POST', '/api/servers/world/worlds/ood-1799/restore')).status).toBe(404);
    const restored = await api.call('POST', '/api/servers/world/worlds/ood-1800000000/restore');
    expect(restored.status).toBe(200);
    const after = (await api.call('GET', '/api/servers/world/worlds')).body.versions as { id: string; next: boolean; chosen: boolean }[];
    expect(after.map((v) => [v.id, v.next, v.chosen])).toEqual([
      ['ood-1800000001', false, false],
      ['ood-1800000000', true, true],
    ]);
    const journal = await api.journal();
    expect(journal.some((j) => j.step === 'restore' && /ood-1800000000\.tar\.gz/.test(j.detail ?? ''))).toBe(true);
    const audit = serving.controller.store.audit.list(20).find((a) => a.action === 'world restored');
    expect(audit).toMatchObject({ actor: 'admin-token', server: 'world' });

    // The CLI: the table names each version, the next start and the restore; `ood restore` chooses another.
    const cli = { env: { OOD_ADMIN_TOKEN: TEST_TOKEN, OOD_URL: serving.url }, cwd: home.dir };
    const table = await ood(['worlds', 'world'], cli);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^VERSION\s+MADE\s+SIZE\s+WHERE\s+SESSION\s+NEXT START\n/);
    expect(table.stdout).toMatch(/ood-1800000000\s+2027-01-15 \d\d:00:00 \w+\s+.*local archive\s+-\s+next, restored\n/);
    const back = await ood(['restore', 'world', 'ood-1800000001'], cli);
    expect(back.stdout).toMatch(/^world's next start boots ood-1800000001\.tar\.gz \(local archive, made .*\); newer versions are kept/);
    expect((await ood(['restore', 'world', 'nope'], cli)).stderr).toContain('Server world has no world version nope');

    await api.start();
    await waitUntil('the server to leave archived', async () => (await api.server()).phase !== 'archived', 20_000);
    const refused = await api.call('POST', '/api/servers/world/worlds/ood-1800000001/restore');
    expect(refused.status).toBe(409);
    expect(String(refused.body.error)).toMatch(/^Server world is \w+ and wanted up; a world is restored only while the server is archived/);
  });
});
