import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serverJson } from '../api/server-json.js';
import { parseConfig } from '../config/load.js';
import type { CopyOptions, Driver } from '../drivers/driver.js';
import { silentLogger } from '../log.js';
import { Store } from '../store/store.js';
import { ServerRunner } from './loop.js';
import type { Observation } from './types.js';

const playing: Observation = { host: 'present', machine: 'on', power: 'on', game: 'answering', players: { online: 1, max: 20, names: ['ann'] } };

/**
 * The copy step in the loop (issue 19 item 4), with a real store: a failing copy is a warning on the
 * server's card and a skipped row, the server stays running, and the next attempt waits a whole
 * `every`, counted from when the failed one started; a good one clears the warning.
 */
describe('copies in the reconcile loop', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a failed copy is a warning, not a failure, and is tried again a period later, not every tick', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ood-copy-step-'));
    dirs.push(dir);
    const config = parseConfig({ dataDir: dir, servers: [{ id: 'world', driver: 'digitalocean', backups: { every: '10m' } }] }, dir);
    const store = Store.open(join(dir, 'ood.db'));
    store.servers.ensure(['world'], 0);
    let now = 1_000_000;
    store.servers.setDesired('world', 'up', 'test', now);
    store.servers.move('world', 'archived', 'running', now, { readyAt: now, emptySince: null });
    const calls: { at: number; options: CopyOptions; progress: unknown }[] = [];
    let fail = true;
    const driver = {
      observe: async () => playing,
      resumeSaving: async () => null,
      copyWorld: async (options: CopyOptions) => {
        // What the store says while the copy runs: its start, written with its intent.
        calls.push({ at: now, options, progress: store.servers.get('world')!.progress });
        if (fail) throw new Error('tar of /srv/minecraft/world exited with 2: No space left on device');
        return 'Copied the world';
      },
    } as unknown as Driver;
    const runner = new ServerRunner({ store, driver, server: config.servers[0]!, reconcile: config.reconcile, log: silentLogger, clock: () => now });
    const tick = async () => (runner as unknown as { runTick(): Promise<void> }).runTick();
    const minute = 60_000;
    try {
      await tick();
      expect(calls).toEqual([]);
      now += 10 * minute;
      await tick();
      expect(calls).toHaveLength(1);
      expect(calls[0]!.options).toEqual({ timeoutMs: config.servers[0]!.deadlines.stopping, live: true, keep: 6 });
      expect(calls[0]!.progress).toMatchObject({ copyingSince: now, lastCopyAt: now, playedSinceCopy: false });
      const failedAt = now;
      const state = store.servers.get('world')!;
      expect(state.phase).toBe('running');
      expect(state.progress.copyWarning).toMatch(/No space left on device/);
      expect(state.progress.copyingSince).toBeUndefined();
      expect(serverJson(runner.view()).copy).toEqual({ since: null, warning: expect.stringMatching(/No space left/) });
      expect(store.journal.list('world').filter((e) => e.step === 'skipped').map((e) => e.detail ?? e.error)).toEqual([expect.stringMatching(/^Skipped copy .*No space left/)]);

      // Ticks for the next 9 minutes: no copy.
      for (let i = 0; i < 9; i++) {
        now += minute;
        await tick();
      }
      expect(calls).toHaveLength(1);
      fail = false;
      now = failedAt + 10 * minute;
      await tick();
      expect(calls).toHaveLength(2);
      expect(store.servers.get('world')!.progress.copyWarning).toBeUndefined();
      expect(store.servers.get('world')!.phase).toBe('running');
    } finally {
      await runner.stop();
      store.close();
    }
  });
});
