import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listArchives } from '../controller/drivers/local/archive.js';
import { findHostProcesses } from '../controller/drivers/local/processes.js';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

describe('concurrent and mistimed requests', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  it('50 at once coalesce into one provision and one server process', async () => {
    const api = apiFor(serving.url);
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.start()));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    await waitUntil('running', async () => (await api.server()).phase === 'running');
    // And 50 more while it runs change nothing.
    await Promise.all(Array.from({ length: 50 }, () => api.start()));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await findHostProcesses(home.hostDir())).toHaveLength(1);
    const journal = await api.journal();
    expect(journal.filter((e) => e.step === 'provision')).toHaveLength(1);
    expect(journal.filter((e) => e.step === 'boot')).toHaveLength(1);
    expect(serving.controller.store.audit.list().filter((a) => a.action === 'start')).toHaveLength(100);
  });

  it('a stop pressed while the game is still booting ends archived, with the world saved and no process', async () => {
    const api = apiFor(serving.url);
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000);
    const before = await listArchives(home.archiveDir());
    await api.start();
    await waitUntil('booting', async () => (await api.server()).phase === 'booting', 30_000, 10);
    await api.stop();
    await waitUntil('archived again', async () => (await api.server()).phase === 'archived', 60_000);
    expect(await findHostProcesses(home.hostDir())).toEqual([]);
    expect(await listArchives(home.archiveDir())).toHaveLength(before.length + 1);
    expect((await api.journal()).some((e) => e.step === 'phase' && e.detail?.includes('→ failed'))).toBe(false);
  });
});
