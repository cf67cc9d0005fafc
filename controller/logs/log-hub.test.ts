import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { waitUntil } from '../../test/helpers/wait.js';
import { LogHub, type LogHubTiming, type LogLine } from './log-hub.js';
import type { FollowOptions, LogChunk } from './types.js';

/** A follower the test feeds by hand; each call of `follow` is one run of it. */
class FakeLog {
  readonly runs: { tail: number; signal: AbortSignal; push(chunk: LogChunk): void; end(err?: Error): void }[] = [];
  /** Lines written so far: each run starts with the last `tail` of them, like `tail -F`. */
  readonly written: string[] = [];
  failNext: Error[] = [];
  /** How long a run takes before its first chunk (an SSH exec takes a while). */
  startMs = 0;

  follow = (options: FollowOptions): AsyncIterable<LogChunk> => {
    const failure = this.failNext.shift();
    const queue: (LogChunk | { end: Error | null })[] = failure ? [{ end: failure }] : [];
    if (!failure && this.written.length > 0) queue.push({ kind: 'data', bytes: Buffer.from(this.written.slice(-options.tail).join('\n') + '\n') });
    let wake: (() => void) | undefined;
    const run = {
      tail: options.tail,
      signal: options.signal,
      push: (chunk: LogChunk) => {
        queue.push(chunk);
        wake?.();
      },
      end: (err?: Error) => {
        queue.push({ end: err ?? null });
        wake?.();
      },
    };
    this.runs.push(run);
    options.signal.addEventListener('abort', () => wake?.());
    const startMs = this.startMs;
    return (async function* () {
      await new Promise((r) => setTimeout(r, startMs));
      for (;;) {
        if (options.signal.aborted) return;
        const next = queue.shift();
        if (!next) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if ('end' in next) {
          if (next.end) throw next.end;
          return;
        }
        yield next;
      }
    })();
  };

  /** A line the game writes: to every live run, and to the file a new run tails. */
  write(...lines: string[]): void {
    this.written.push(...lines);
    for (const run of this.runs) if (!run.signal.aborted) run.push({ kind: 'data', bytes: Buffer.from(lines.map((l) => `${l}\n`).join('')) });
  }

  get live() {
    return this.runs.filter((r) => !r.signal.aborted);
  }
}

const FAST: Partial<LogHubTiming> = { batchMs: 20, idleStopMs: 200, retryFirstMs: 50, retryMaxMs: 200 };

describe('LogHub', () => {
  const hubs: LogHub[] = [];
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((h) => h.close()));
  });
  function hub(fake: FakeLog, timing = FAST) {
    const h = new LogHub({ server: 's', follow: fake.follow, log: silentLogger, clock: Date.now, timing });
    hubs.push(h);
    return h;
  }
  /** Everything a listener received. */
  function watch(h: LogHub) {
    const got: LogLine[][] = [];
    const sub = h.subscribe((lines) => got.push([...lines]));
    return { sub, got, texts: () => got.flat().map((l) => l.text) };
  }

  it('starts one follower for every viewer, gives the ring as backlog, and fans lines out in batches', async () => {
    const fake = new FakeLog();
    fake.written.push(...Array.from({ length: 600 }, (_, i) => `old ${i}`));
    const h = hub(fake, { ...FAST, batchMs: 100 });
    expect(h.following).toBe(false);
    const a = watch(h);
    expect(a.sub.backlog).toEqual([]);
    await waitUntil('the tail', () => a.texts().length === 500, 2_000);
    expect(fake.runs.map((r) => r.tail)).toEqual([500]);
    expect(a.texts()[0]).toBe('old 100');
    const b = watch(h);
    expect(b.sub.backlog.map((l) => l.text)).toEqual(a.texts());
    expect(fake.runs).toHaveLength(1);
    const sent = Date.now();
    for (let i = 0; i < 10; i++) fake.write(`new ${i}`);
    await waitUntil('the new lines', () => b.texts().length === 10, 2_000);
    expect(b.got).toHaveLength(1); // ten lines, one batch
    expect(Date.now() - sent).toBeGreaterThanOrEqual(90);
    expect(b.got[0]!.every((l) => l.kind === 'game')).toBe(true);
    // The ring keeps the newest 500.
    expect(watch(h).sub.backlog.map((l) => l.text).at(-1)).toBe('new 9');
    expect(watch(h).sub.backlog).toHaveLength(500);
  });

  it('stops the follower a while after the last viewer leaves, not when one of several does', async () => {
    const fake = new FakeLog();
    const h = hub(fake);
    const a = watch(h);
    const b = watch(h);
    a.sub.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.following).toBe(true);
    b.sub.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(h.following).toBe(true); // a page reload comes back within the wait
    await waitUntil('the follower to stop', () => !h.following, 2_000);
    expect(fake.runs[0]!.signal.aborted).toBe(true);
  });

  it('retries a failing follower with a growing wait, shows the error once, and leaves out lines already shown', async () => {
    const fake = new FakeLog();
    const h = hub(fake);
    const a = watch(h);
    fake.write('Done (1.0s)!', 'Alex joined the game');
    await waitUntil('the lines', () => a.texts().length === 2, 2_000);
    fake.failNext.push(new Error('SSH dropped'), new Error('SSH dropped'), new Error('SSH dropped'));
    const failedAt = Date.now();
    fake.runs[0]!.end(new Error('SSH dropped'));
    await waitUntil('a working follower again', () => fake.runs.length === 5, 3_000);
    // 50 + 100 + 200 + 200 ms between the four restarts.
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(500);
    fake.write('Alex left the game');
    await waitUntil('the line after the retry', () => a.texts().includes('Alex left the game'), 2_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.texts()).toEqual(['Done (1.0s)!', 'Alex joined the game', "could not follow the game's log (SSH dropped); trying again", 'Alex left the game']);
    expect(a.got.flat().find((l) => l.text.startsWith('could not'))!.kind).toBe('ood');
  });

  it('leaves out the lines already shown when a viewer comes back, even when an OoD line comes before the tail', async () => {
    const fake = new FakeLog();
    const h = hub(fake);
    const a = watch(h);
    fake.write('one', 'two');
    await waitUntil('the lines', () => a.texts().length === 2, 2_000);
    a.sub.close();
    await waitUntil('the follower to stop', () => !h.following, 2_000);
    fake.startMs = 150;
    fake.written.push('three'); // written while nobody watched
    const b = watch(h);
    h.events.moved!({ server: 's', from: 'running', to: 'stopping', reason: 'empty', at: 5, address: null });
    await waitUntil('the new line', () => b.texts().includes('three'), 2_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.texts()).toEqual(['phase running → stopping: empty', 'three']);
    expect(watch(h).sub.backlog.map((l) => l.text)).toEqual(['one', 'two', 'phase running → stopping: empty', 'three']);
  });

  it("reads the game's last words after a stop, then lets go, and a droplet going away then is no failure", async () => {
    const fake = new FakeLog();
    const h = hub(fake);
    const a = watch(h);
    await waitUntil('the follower', () => fake.live.length === 1, 2_000);
    h.events.moved!({ server: 's', from: 'stopping', to: 'powering_off', reason: 'stop_game done', at: 1, address: null });
    fake.write('Saved the world; exiting');
    await waitUntil('the last words', () => a.texts().includes('Saved the world; exiting'), 2_000);
    // The droplet powers off under the follow: it ends, and is not tried again.
    fake.live[0]!.end(new Error('the connection dropped'));
    await new Promise((r) => setTimeout(r, 1_300));
    expect(h.following).toBe(false);
    expect(fake.runs).toHaveLength(1);
    expect(a.texts()).toEqual(['phase stopping → powering_off: stop_game done', 'Saved the world; exiting']);
  });

  it('adds phase changes as OoD lines, stops at once when the server is archived, and follows again when it starts', async () => {
    const fake = new FakeLog();
    const h = hub(fake, { ...FAST, idleStopMs: 60_000 });
    const a = watch(h);
    h.events.moved!({ server: 's', from: 'booting', to: 'running', reason: 'the game answered', at: 1, address: null });
    await waitUntil('the OoD line', () => a.texts().length === 1, 2_000);
    expect(a.got[0]).toEqual([{ at: 1, kind: 'ood', text: 'phase booting → running: the game answered' }]);
    h.events.moved!({ server: 's', from: 'destroying', to: 'archived', reason: 'the host is gone', at: 2, address: null });
    await waitUntil('the follower to stop', () => !h.following, 2_000);
    expect(fake.live).toEqual([]);
    h.events.moved!({ server: 's', from: 'archived', to: 'provisioning', reason: 'Ann started it', at: 3, address: null });
    await waitUntil('a new follower', () => h.following && fake.live.length === 1, 2_000);
  });

  it('ends the follower on close and says nothing of it', async () => {
    const fake = new FakeLog();
    const h = hub(fake);
    const a = watch(h);
    await waitUntil('the follower', () => fake.runs.length === 1, 2_000);
    await h.close();
    expect(fake.runs[0]!.signal.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.texts()).toEqual([]);
  });
});
