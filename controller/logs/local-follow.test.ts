import { appendFileSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/helpers/wait.js';
import { LineCutter } from './line-cutter.js';
import { followFile } from './local-follow.js';

/** Follows `path` in the background, as the hub does: lines and notes as they come. */
function follow(path: string, tail: number) {
  const abort = new AbortController();
  const cutter = new LineCutter();
  const lines: string[] = [];
  const notes: string[] = [];
  const done = (async () => {
    for await (const chunk of followFile(path, { tail, signal: abort.signal })) {
      if (chunk.kind === 'data') lines.push(...cutter.push(chunk.bytes));
      else notes.push(chunk.text);
    }
  })();
  return { lines, notes, done, stop: () => abort.abort() };
}

/** The files this process holds open under `dir`. */
function openUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // the fd of readdir itself, closed by now
      }
    })
    .filter((target) => target.startsWith(dir));
}

describe('followFile', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-follow-'));
    path = join(dir, 'game.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('yields the last lines, then appended ones, and closes the file promptly on abort', async () => {
    writeFileSync(path, Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const f = follow(path, 500);
    await waitUntil('the tail', () => f.lines.length >= 500, 5_000);
    expect(f.lines[0]).toBe('line 500');
    expect(f.lines.at(-1)).toBe('line 999');
    appendFileSync(path, 'Alex joined the game\n');
    await waitUntil('the new line', () => f.lines.includes('Alex joined the game'), 5_000);
    expect(f.lines).toHaveLength(501);
    expect(openUnder(dir)).toHaveLength(1);
    const asked = Date.now();
    f.stop();
    await f.done;
    expect(Date.now() - asked).toBeLessThan(500);
    expect(openUnder(dir)).toEqual([]);
  });

  it('reads a truncated file again from its start, with a note', async () => {
    writeFileSync(path, 'old 1\nold 2\nold 3\n');
    const f = follow(path, 10);
    await waitUntil('the old lines', () => f.lines.length === 3, 5_000);
    truncateSync(path, 0);
    appendFileSync(path, 'fresh\n');
    await waitUntil('the fresh line', () => f.lines.includes('fresh'), 5_000);
    expect(f.notes).toEqual(['log truncated; reading it from the start']);
    expect(f.lines).toEqual(['old 1', 'old 2', 'old 3', 'fresh']);
    f.stop();
    await f.done;
  });

  it('follows a rotation by rename: the old file to its end, then the new file from its start', async () => {
    writeFileSync(path, 'before\n');
    const f = follow(path, 10);
    await waitUntil('the first line', () => f.lines.includes('before'), 5_000);
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, 'written to the old file after the rename\n');
    writeFileSync(path, 'in the new file\n');
    await waitUntil('the new file', () => f.lines.includes('in the new file'), 5_000);
    expect(f.lines).toEqual(['before', 'written to the old file after the rename', 'in the new file']);
    expect(f.notes).toEqual(['log rotated; reading the new file']);
    appendFileSync(path, 'and more\n');
    await waitUntil('more', () => f.lines.includes('and more'), 5_000);
    f.stop();
    await f.done;
    expect(openUnder(dir)).toEqual([]);
  });

  it('waits for a missing file, saying so once', async () => {
    const f = follow(path, 500);
    await waitUntil('the note', () => f.notes.length === 1, 5_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(f.notes).toHaveLength(1);
    expect(f.notes[0]).toMatch(/no game log yet \(game\.log\)/);
    writeFileSync(path, 'Done (0.5s)!\n');
    await waitUntil('the first line', () => f.lines.includes('Done (0.5s)!'), 5_000);
    f.stop();
    await f.done;
  });

  it('cuts a 1 MB line, in the tail and appended, and the lines after it arrive whole', async () => {
    const huge = 'y'.repeat(1024 * 1024);
    writeFileSync(path, `first\n${huge}\nafter the tail's huge line\n`);
    const f = follow(path, 500);
    await waitUntil('the tail', () => f.lines.length === 3, 5_000);
    appendFileSync(path, `${huge}\nafter the appended huge line\n`);
    await waitUntil('the appended lines', () => f.lines.length === 5, 5_000);
    f.stop();
    await f.done;
    expect(f.lines[0]).toBe('first');
    expect(f.lines[1]).toMatch(/^y{8192}… \(cut: 1040384 bytes\)$/);
    expect(f.lines[2]).toBe("after the tail's huge line");
    expect(f.lines[3]).toBe(f.lines[1]);
    expect(f.lines[4]).toBe('after the appended huge line');
  });

  it('reads at most 4 MiB back for the tail, starting at a whole line', async () => {
    const line = `${'z'.repeat(1023)}\n`; // 1 KiB lines: 6 MiB of them
    writeFileSync(path, `start\n${line.repeat(6 * 1024)}`);
    const f = follow(path, 100_000);
    await waitUntil('the tail', () => f.lines.length >= 4095, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    f.stop();
    await f.done;
    expect(f.lines).toHaveLength(4095); // the 4 MiB mark is where a line starts; OoD cannot tell, and begins at the next
    expect(f.lines.every((l) => l === 'z'.repeat(1023))).toBe(true);
  });
});
