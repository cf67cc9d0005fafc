// A hostile game log against the hub (issue 21): the game prints what players type, and a game (or a
// plugin) can write far faster than any console can show. What one batch holds is what every viewer's
// stream is sent at once, before the producer can tell a slow reader from a fast one.
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/helpers/wait.js';
import { silentLogger } from '../log.js';
import { LogHub, type LogLine } from './log-hub.js';
import type { FollowOptions, LogChunk } from './types.js';

let hub: LogHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

/** A follower that yields `total` bytes of 1 KiB lines as fast as it is read (a log written at disk speed). */
function flood(total: number, done: { at?: number }) {
  return (options: FollowOptions): AsyncIterable<LogChunk> =>
    (async function* () {
      const block = Buffer.from(`${'x'.repeat(1023)}\n`.repeat(64));
      for (let sent = 0; sent < total && !options.signal.aborted; sent += block.length) {
        yield { kind: 'data', bytes: block } as LogChunk;
        // A real read awaits the disk: the event loop gets a turn after every 64 KiB, as with file.read.
        await new Promise((r) => setImmediate(r));
      }
      done.at = Date.now();
      await new Promise<void>((r) => options.signal.addEventListener('abort', () => r(), { once: true }));
    })();
}

describe('LogHub against a log written faster than it can be shown', () => {
  it('sends no batch far larger than a console stream may queue (1 MiB), and says lines were skipped', async () => {
    const done: { at?: number } = {};
    hub = new LogHub({ server: 'world', follow: flood(32 << 20, done), log: silentLogger, clock: Date.now, timing: { batchMs: 100 } });
    const batches: number[] = [];
    let lines = 0;
    const seen: LogLine[] = [];
    hub.subscribe((batch) => {
      batches.push(batch.reduce((n, l) => n + Buffer.byteLength(l.text), 0));
      lines += batch.length;
      seen.push(...batch.filter((l) => l.kind === 'ood'));
    });
    // 32 MiB of lines: 32,768 of them.
    await waitUntil('the flood to be read', () => done.at !== undefined, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    const largest = Math.max(...batches);
    // Every viewer's stream gets the batch whole before its queue is looked at: one 32 MiB batch is
    // 32 MiB per open console (1,000 of them allowed) before anyone is let go.
    expect(largest).toBeLessThanOrEqual(1 << 20);
    // What was left out is said where it was left out, and the stream goes on with the newest.
    expect(seen.some((l) => /lines skipped/.test(l.text))).toBe(true);
    expect(lines).toBeGreaterThan(0);
  }, 20_000);
});
