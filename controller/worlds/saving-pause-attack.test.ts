import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyHostDir } from '../drivers/local/host-copy.js';
import { listCopies } from './copies.js';
import { savingOffPath } from './saving-pause.js';

/**
 * A copy's bound (deadlines.stopping) is documented as the whole copy's, save-off to save-on: decide
 * counts on it ("a stop request waits at most that long"). A game slow to answer `save-all flush` (a
 * big world on a slow disk, a game stalling) must not hold the tick past it.
 */
describe('a copy whose save-all flush is slow', () => {
  let dir: string;
  let hostDir: string;
  const sent: string[] = [];
  let flushMs = 0;
  const send = async (command: string) => {
    sent.push(command);
    if (command === 'save-all flush') await new Promise((r) => setTimeout(r, flushMs));
    return { 'save-off': 'Automatic saving is now disabled', 'save-all flush': 'Saved the game', 'save-on': 'Automatic saving is now enabled' }[command] ?? '';
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-slow-flush-'));
    hostDir = join(dir, 'data', 'servers', 'world', 'host');
    mkdirSync(join(hostDir, 'world'), { recursive: true });
    writeFileSync(join(hostDir, 'world', 'level.dat'), 'x');
    sent.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const deps = () => ({ hostDir, dataDir: join(dir, 'data'), server: 'world', send, clock: Date.now });

  it('is cut off at its bound, with saving turned back on, not when the flush answers', async () => {
    flushMs = 3_000;
    const started = performance.now();
    await expect(copyHostDir(deps(), { timeoutMs: 300, live: true, keep: 6 })).rejects.toThrow(/did not finish within 300ms/);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(sent).toEqual(['save-off', 'save-all flush', 'save-on']);
    expect(existsSync(savingOffPath(join(dir, 'data'), 'world'))).toBe(false);
    expect(await listCopies(join(dir, 'data'), 'world')).toEqual([]);
  });

  it('a flush within the bound still makes the copy', async () => {
    flushMs = 50;
    await copyHostDir(deps(), { timeoutMs: 5_000, live: true, keep: 6 });
    expect(sent).toEqual(['save-off', 'save-all flush', 'save-on']);
    expect(await listCopies(join(dir, 'data'), 'world')).toHaveLength(1);
  });
});
