import { Vec3 } from 'vec3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const A = new Vec3(2, 6, 2);
const B = new Vec3(4, 6, 4);

interface Version {
  id: string;
  next: boolean;
  chosen: boolean;
  session: { players: string[] } | null;
}

/** Issue 19's local test: the bundled game and a mineflayer bot, a restore of an older version, and every version still listed after. */
describe('restoring an older world version on the local driver (real game, real client)', () => {
  let home: OodHome;
  let serving: Serving;
  beforeAll(async () => {
    home = await makeOodHome({ server: { keepArchives: 5 } });
    serving = await serveInProcess(home.configPath);
  });
  afterAll(async () => {
    await serving?.close();
    await home?.cleanup();
  });

  const api = () => apiFor(serving.url);
  const versions = async () => ((await api().call('GET', '/api/servers/world/worlds')).body.versions as Version[]);
  const start = async () => {
    expect((await api().start()).status).toBe(202);
    await waitUntil('running', async () => (await api().server()).phase === 'running', 90_000);
  };
  const stop = async () => {
    expect((await api().stop()).status).toBe(202);
    await waitUntil('archived', async () => (await api().server()).phase === 'archived', 90_000);
  };
  /** A bot joins, optionally places `block` at `at`, and reports what it sees at A and B. */
  const play = async (name: string, place?: { at: Vec3; block: string }) => {
    const bot = await joinBot(home.gamePort, name);
    try {
      await waitUntil('the chunk to load', () => bot.blockAt(A) !== null && bot.blockAt(B) !== null, 15_000);
      if (place) {
        bot.chat(`/setblock ${place.at.x} ${place.at.y} ${place.at.z} ${place.block}`);
        await waitUntil(`the ${place.block} to appear`, () => bot.blockAt(place.at)?.name === place.block, 10_000);
      }
      // Until the controller has seen the player: a stay it never probed counts as no play in the session.
      await waitUntil(`${name} to be seen online`, async () => ((await api().server()).players?.names ?? []).includes(name), 15_000);
      await new Promise((r) => setTimeout(r, 1_500));
      return { a: bot.blockAt(A)?.name, b: bot.blockAt(B)?.name };
    } finally {
      await leave(bot);
    }
  };

  it('block A (v1), block B (v2), restore v1 → the bot sees A and not B; the stop after makes v3 and v1, v2 stay listed', async () => {
    await start();
    await play('ann', { at: A, block: 'gold_block' });
    await stop();
    await start();
    expect(await play('bob', { at: B, block: 'diamond_block' })).toEqual({ a: 'gold_block', b: 'diamond_block' });
    await stop();

    const [v2, v1] = await versions();
    expect([v2!.next, v1!.next]).toEqual([true, false]);
    expect(v1!.session?.players).toContain('ann');
    const restored = await api().call('POST', `/api/servers/world/worlds/${v1!.id}/restore`);
    expect(restored.status).toBe(200);

    await start();
    expect(await play('cat')).toEqual({ a: 'gold_block', b: 'air' });
    await stop();

    const after = await versions();
    expect(after.map((v) => v.id)).toEqual([expect.not.stringMatching(new RegExp(`^(${v1!.id}|${v2!.id})$`)), v2!.id, v1!.id]);
    expect(after.map((v) => [v.next, v.chosen])).toEqual([
      [true, false],
      [false, false],
      [false, false],
    ]);
    expect(after[0]!.session?.players).toContain('cat');
  });
});
