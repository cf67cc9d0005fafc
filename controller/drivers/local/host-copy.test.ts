import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copiesDir, listCopies } from '../../worlds/copies.js';
import { savingOffPath } from '../../worlds/saving-pause.js';
import { copyHostDir } from './host-copy.js';

describe("a local server's copy", () => {
  let dir: string;
  let hostDir: string;
  const sent: string[] = [];
  const send = async (command: string) => {
    sent.push(command);
    return { 'save-off': 'Automatic saving is now disabled', 'save-all flush': 'Saved the game', 'save-on': 'Automatic saving is now enabled' }[command] ?? '';
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-host-copy-'));
    hostDir = join(dir, 'data', 'servers', 'world', 'host');
    mkdirSync(join(hostDir, 'world', 'region'), { recursive: true });
    writeFileSync(join(hostDir, 'server.properties'), 'level-name=world\n');
    writeFileSync(join(hostDir, '.ood-host.json'), '{}');
    sent.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const deps = () => ({ hostDir, dataDir: join(dir, 'data'), server: 'world', send, clock: Date.now });

  it('holds the working directory but OoD control files, with saving paused around it', async () => {
    writeFileSync(join(hostDir, 'world', 'region', 'r.0.0.mca'), randomBytes(1 << 16));
    const detail = await copyHostDir(deps(), { timeoutMs: 60_000, live: true, keep: 6 });
    expect(detail).toMatch(/^Copied the working directory to copies\/ood-\d+\.tar\.gz: [\d.]+ MB in [\d.]+ s \(the tar and its read-back [\d.]+ s\); saving was off for [\d.]+ s$/);
    expect(sent).toEqual(['save-off', 'save-all flush', 'save-on']);
    expect(await listCopies(join(dir, 'data'), 'world')).toHaveLength(1);
  });

  it('is cut off after its bound: nothing listed, no partial file, saving on again', async () => {
    // 300 MB gzip cannot shrink: far more than 200 ms of work on any machine.
    for (let i = 0; i < 75; i++) writeFileSync(join(hostDir, 'world', 'region', `r.${i}.0.mca`), randomBytes(4 << 20));
    const started = performance.now();
    await expect(copyHostDir(deps(), { timeoutMs: 200, live: true, keep: 6 })).rejects.toThrow(/did not finish within 200ms \(deadlines.stopping bounds a copy\); it was cut off and not kept/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(sent).toEqual(['save-off', 'save-all flush', 'save-on']);
    expect(existsSync(savingOffPath(join(dir, 'data'), 'world'))).toBe(false);
    expect(readdirSync(copiesDir(join(dir, 'data'), 'world')).filter((n) => n !== 'saving-off.json')).toEqual([]);
  });
});
