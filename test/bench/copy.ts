/**
 * A copy of the world during play on a loopback droplet (issue 19 item 4): how long the game's saving
 * is off (save-off to save-on) against the copy's own time, and the status ping's latency while a copy
 * runs against while none does, in the same run. The controller is the bundle `npm start` runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusPing } from '../../controller/minecraft/status-ping.js';
import { savingOffPath } from '../../controller/worlds/saving-pause.js';
import { apiFor } from '../helpers/api.js';
import { joinBot, leave } from '../helpers/bot.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { makeDoWorld } from '../helpers/do-world.js';
import { waitUntil } from '../helpers/wait.js';
import type { Row } from './digitalocean.js';
import { npmStartNodeArgs } from './scale.js';

const COPIES = 3;
/** Region-like data gzip cannot shrink, so a copy takes long enough to ping through. */
const WORLD_MB = 64;
const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

export async function copyBench(row: Row, bundle: string): Promise<void> {
  const world = await makeDoWorld({ server: { backups: { every: '10s', keep: 2 } } });
  const controller = await startControllerProcess(world.configPath, world.env, bundle, [], npmStartNodeArgs());
  try {
    const api = apiFor(controller.url);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 180_000, 100);
    const droplet = [...world.fake.state.droplets.values()].find((d) => d.status !== 'archive')!;
    const worldDir = join(world.machines.paths(droplet.id).minecraft, 'world');
    await waitUntil('the world folder', () => existsSync(worldDir), 30_000);
    for (let i = 0; i < WORLD_MB / 4; i++) writeFileSync(join(worldDir, `ood-bench-${i}.bin`), randomBytes(4 << 20));
    // Someone on, so copies are taken every 10 s.
    const bot = await joinBot(world.gamePort, 'ann', droplet.ipv4);
    const marker = savingOffPath(world.dataDir, 'world');
    const during: number[] = [];
    const without: number[] = [];
    try {
      const copyRows = async () => ((await api.call('GET', '/api/servers/world/journal')).body as { journal: { detail?: string | null; message?: string }[] }).journal.map((e) => JSON.stringify(e)).filter((t) => /Copied the world/.test(t));
      while ((await copyRows()).length < COPIES) {
        // The marker exists from just before save-off until save-on is confirmed: the copy's window.
        const copying = existsSync(marker);
        const t0 = performance.now();
        await statusPing(droplet.ipv4, world.gamePort, 2_000);
        (copying && existsSync(marker) ? during : without).push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
      }
      const parsed = (await copyRows()).map((t) => /the tar and its read-back ([\d.]+) s\); saving was off for ([\d.]+) s/.exec(t)).filter((m) => m !== null);
      const copySeconds = parsed.map((m) => Number(m[1]));
      const offSeconds = parsed.map((m) => Number(m[2]));
      const copy = median(copySeconds);
      const off = median(offSeconds);
      row(
        `a copy during play (${WORLD_MB} MB world, loopback droplet): saving off vs the copy's own time (tar + read-back)`,
        `off ${off.toFixed(1)} s`,
        `copy ${copy.toFixed(1)} s; ${parsed.length} copies: off ${offSeconds.join(', ')} s, copy ${copySeconds.join(', ')} s`,
        '≤ copy + 1 s',
        off <= copy + 1,
      );
      const d = median(during);
      const w = median(without);
      row(
        'status ping during a copy vs without (same run)',
        `${d.toFixed(1)} ms`,
        `without ${w.toFixed(1)} ms; ${during.length} pings during, ${without.length} without`,
        '≤ without + 50 ms',
        d <= w + 50,
      );
    } finally {
      await leave(bot);
    }
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 240_000, 200);
  } finally {
    await controller.stop();
    await world.cleanup();
  }
}
