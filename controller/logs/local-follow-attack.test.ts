// A game log written at disk speed (a plugin's loop, a flood the game prints), followed on this machine
// (issue 21): the controller shares its one event loop with the reconcile loop, the web pages and the
// lobby, so following a log must not take that loop away from them however fast the log grows.
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { LogHub } from './log-hub.js';
import { followFile } from './local-follow.js';

let dir: string | undefined;
let hub: LogHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('following a log that grows at 100 MB/s', () => {
  it('keeps the event loop answering (lag under 250 ms) and the viewer getting lines', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ood-follow-attack-'));
    const path = join(dir, 'game.log');
    await writeFile(path, '');
    hub = new LogHub({ server: 'world', follow: (o) => followFile(path, o), log: silentLogger, clock: Date.now });
    let lines = 0;
    const sub = hub.subscribe((batch) => void (lines += batch.length));
    // 10 MB every 100 ms for 1 s: short lines, as chat is.
    const block = `${'[12:00:00] [Server thread/INFO]: <griefer> spam spam spam spam spam spam\n'.repeat(140_000)}`;
    let worst = 0;
    let last = Date.now();
    const probe = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last - 20);
      last = now;
    }, 20);
    try {
      for (let i = 0; i < 10; i++) {
        await appendFile(path, block);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      clearInterval(probe);
      sub.close();
    }
    expect(lines).toBeGreaterThan(0);
    expect(worst).toBeLessThan(250);
  }, 60_000);
});

describe('a followed log deleted by an admin freeing disk space', () => {
  it('lets go of the deleted file (its space comes back) and follows the next one that appears', async () => {
    const { readdir, readlink, unlink } = await import('node:fs/promises');
    dir = await mkdtemp(join(tmpdir(), 'ood-follow-attack-'));
    const path = join(dir, 'game.log');
    await writeFile(path, 'old line\n');
    const abort = new AbortController();
    const got: string[] = [];
    const run = (async () => {
      for await (const chunk of followFile(path, { tail: 10, signal: abort.signal })) got.push(chunk.kind === 'note' ? `note: ${chunk.text}` : chunk.bytes.toString());
    })();
    const heldOpen = async () => {
      const fds = await readdir('/proc/self/fd');
      const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return targets.filter((t) => t.startsWith(path));
    };
    try {
      await new Promise((r) => setTimeout(r, 400));
      expect(got.join('')).toContain('old line');
      await unlink(path);
      await new Promise((r) => setTimeout(r, 800));
      // Deleted, but held open by the follower: the disk space is not freed while anyone watches.
      expect(await heldOpen()).toEqual([]);
      await writeFile(path, 'new line\n');
      await new Promise((r) => setTimeout(r, 800));
      expect(got.join('')).toContain('new line');
    } finally {
      abort.abort();
      await run;
    }
  }, 20_000);
});
