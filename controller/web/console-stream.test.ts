import { get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { LogLine } from '../logs/log-hub.js';
import { ConsoleStreams, type ConsoleViewer } from './console-stream.js';

/** A hub as the stream sees one: a backlog, and listeners that get whatever batches the test pushes. */
class TestHub {
  readonly listeners = new Set<(lines: readonly LogLine[]) => void>();
  constructor(public backlog: LogLine[] = []) {}
  subscribe(listener: (lines: readonly LogLine[]) => void) {
    this.listeners.add(listener);
    return { backlog: [...this.backlog], close: () => void this.listeners.delete(listener) };
  }
  push(lines: LogLine[]): void {
    for (const listener of this.listeners) listener(lines);
  }
}

const line = (text: string, kind: LogLine['kind'] = 'game'): LogLine => ({ at: 1, kind, text });

interface Reader {
  res: IncomingMessage;
  text: () => string;
  ended: Promise<void>;
}

describe('ConsoleStreams', () => {
  let server: Server;
  let streams: ConsoleStreams;
  let hub: TestHub;
  /** Whether each identity may still read. */
  const allowed = new Map<string, boolean>();

  async function start(options: ConstructorParameters<typeof ConsoleStreams>[0] = { log: silentLogger }): Promise<string> {
    streams = new ConsoleStreams(options);
    const app = new Koa();
    app.use((ctx) => {
      const identity = String(ctx.query.who ?? 'alice');
      const viewer: ConsoleViewer = { identity, address: String(ctx.query.from ?? '127.0.0.1'), stillAllowed: () => allowed.get(identity) ?? true };
      streams.attach(ctx, hub, viewer);
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function open(url: string, o: { read?: boolean } = {}): Promise<Reader> {
    return new Promise((resolve, reject) => {
      get(url, (res) => {
        let text = '';
        const ended = new Promise<void>((done) => res.once('close', () => done()));
        if (o.read !== false) res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        else res.pause();
        resolve({ res, text: () => text, ended });
      }).once('error', reject);
    });
  }

  const events = (text: string) =>
    text
      .split('\n\n')
      .filter((block) => block.startsWith('event: '))
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)![1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as unknown }));
  const lineTexts = (text: string) => events(text).filter((e) => e.event === 'line').flatMap((e) => (e.data as LogLine[]).map((l) => l.text));
  const until = async (what: string, check: () => boolean, ms = 3_000) => {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  afterEach(async () => {
    streams?.close();
    allowed.clear();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('sends the backlog on open, then each batch as one line event of JSON', async () => {
    hub = new TestHub([line('Done (1.0s)!'), line('phase booting → running', 'ood')]);
    const url = await start();
    const reader = await open(url);
    await until('the backlog', () => lineTexts(reader.text()).length === 2);
    hub.push([line('<b>Alex</b> joined the game'), line('Alex left the game')]);
    await until('the batch', () => lineTexts(reader.text()).length === 4);

    expect(reader.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(reader.text().startsWith('retry: 2000\n\n')).toBe(true);
    const all = events(reader.text());
    expect(all.map((e) => e.event)).toEqual(['line', 'line']);
    // Text as the game wrote it, inside JSON: nothing is HTML.
    expect(all[1]!.data).toEqual([line('<b>Alex</b> joined the game'), line('Alex left the game')]);
    expect(all[0]!.data).toEqual([line('Done (1.0s)!'), line('phase booting → running', 'ood')]);
  });

  it('sends the newest 512 KiB of a backlog of long lines, not all of it', async () => {
    hub = new TestHub(Array.from({ length: 500 }, (_, i) => line(`${i} ${'x'.repeat(8_000)}`)));
    const reader = await open(await start());
    await until('the backlog', () => reader.text().includes('499 x'));
    const texts = lineTexts(reader.text());
    expect(texts.length).toBeGreaterThan(50);
    expect(texts.length).toBeLessThan(70);
    expect(texts.at(-1)!.startsWith('499 ')).toBe(true);
  });

  it('stops sending to a reader that may no longer read, and frees its place', async () => {
    hub = new TestHub();
    const url = await start({ log: silentLogger, limits: { total: 10, perPerson: 1, perAddress: 10 } });
    const reader = await open(`${url}/?who=bob`);
    hub.push([line('first')]);
    await until('the first line', () => lineTexts(reader.text()).includes('first'));

    allowed.set('bob', false);
    hub.push([line('secret')]);
    await reader.ended;
    expect(lineTexts(reader.text())).toEqual(['first']);
    expect(hub.listeners.size).toBe(0);
    expect(streams.size).toBe(0);
    // His one place is free again.
    allowed.set('bob', true);
    const again = await open(`${url}/?who=bob`);
    expect(again.res.statusCode).toBe(200);
  });

  it('ends a quiet stream at the heartbeat once the reader may no longer read', async () => {
    hub = new TestHub();
    const url = await start({ log: silentLogger, heartbeatMs: 50 });
    const reader = await open(`${url}/?who=carol`);
    await until('a heartbeat', () => reader.text().includes(':\n\n'));
    allowed.set('carol', false);
    await reader.ended;
    expect(hub.listeners.size).toBe(0);
  });

  it('refuses more streams than a person or an address may hold, with 429', async () => {
    hub = new TestHub();
    const url = await start({ log: silentLogger, limits: { total: 100, perPerson: 2, perAddress: 3 } });
    expect((await open(`${url}/?who=dave&from=a`)).res.statusCode).toBe(200);
    expect((await open(`${url}/?who=dave&from=b`)).res.statusCode).toBe(200);
    expect((await open(`${url}/?who=dave&from=c`)).res.statusCode).toBe(429);
    expect((await open(`${url}/?who=erin&from=a`)).res.statusCode).toBe(200);
    expect((await open(`${url}/?who=frank&from=a`)).res.statusCode).toBe(200);
    expect((await open(`${url}/?who=gina&from=a`)).res.statusCode).toBe(429);
  });

  it('tells a reader that fell 1 MiB behind "gap" and lets it go, while the others keep reading', async () => {
    hub = new TestHub();
    const url = await start();
    const slow = await open(`${url}/?who=slow`, { read: false });
    const fast = await open(`${url}/?who=fast`);
    // 1 MiB a batch; the loopback socket's buffers take a few MiB before the stream's own fill.
    const big = Array.from({ length: 128 }, () => line('y'.repeat(8_192)));
    for (let i = 0; i < 40 && streams.size === 2; i++) {
      hub.push(big);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(streams.size).toBe(1);
    hub.push([line('after')]);
    await until('the fast reader to read on', () => fast.text().includes('after'), 10_000);

    let rest = '';
    slow.res.on('data', (chunk: Buffer) => (rest += chunk.toString()));
    slow.res.resume();
    await slow.ended;
    expect(rest).toMatch(/event: gap\ndata: \{"behind":\d+\}\n\n$/);
    expect(rest).not.toContain('after');
  }, 20_000);
});
