import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { extractArchive } from '../controller/drivers/local/archive.js';
import { copiesDir, listCopies } from '../controller/worlds/copies.js';
import { savingOffPath } from '../controller/worlds/saving-pause.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { blockOnDisk } from './helpers/world-blocks.js';

const MARK = new Vec3(3, 6, 3);

/** Copies during play as an option of a local server (backups.enabled: true): a tar of its working directory, saving paused around it. */
describe('copies of a local server during play', () => {
  let home: OodHome;
  let serving: Serving;
  const work = mkdtempSync(join(tmpdir(), 'ood-local-copies-'));
  beforeAll(async () => {
    home = await makeOodHome({ server: { backups: { enabled: true, every: '10s', keep: 2 } } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('holds the bot\'s block, leaves saving on and no marker, keeps 2, and the stop takes none of its own', async () => {
    const api = apiFor(serving.url);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000);
    const bot = await joinBot(home.gamePort, 'ann');
    let placed = 0;
    try {
      await waitUntil('the chunk to load', () => bot.blockAt(MARK) !== null, 10_000);
      bot.chat(`/setblock ${MARK.x} ${MARK.y} ${MARK.z} emerald_block`);
      await waitUntil('the block to appear', () => bot.blockAt(MARK)?.name === 'emerald_block', 10_000);
      placed = Math.floor(Date.now() / 1000) + 1;
      const copy = await waitUntil('a copy after the block', async () => (await listCopies(home.dataDir, 'world')).find((c) => c.ts >= placed), 60_000, 200);
      await extractArchive(join(copiesDir(home.dataDir, 'world'), copy.name), join(work, 'x'));
      expect(await blockOnDisk(join(work, 'x', 'world'), MARK)).toBe('emerald_block');
      expect(readdirSync(join(work, 'x')).some((n) => n.startsWith('.ood-'))).toBe(false);
      expect(existsSync(savingOffPath(home.dataDir, 'world'))).toBe(false);
      await waitUntil('a third copy', async () => ((await api.call('GET', '/api/servers/world/journal')).body as { journal: { step: string; outcome: string }[] }).journal.filter((e) => e.step === 'copy' && e.outcome === 'ok').length >= 3, 60_000, 200);
      expect(await listCopies(home.dataDir, 'world')).toHaveLength(2);
    } finally {
      await leave(bot);
    }
    const before = (await listCopies(home.dataDir, 'world')).map((c) => c.name);
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000);
    expect((await listCopies(home.dataDir, 'world')).map((c) => c.name)).toEqual(before);
  }, 240_000);
});
