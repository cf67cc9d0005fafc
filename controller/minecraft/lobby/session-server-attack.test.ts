import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hasJoined, SessionServer, SessionServerError } from './session-server.js';

/**
 * Attack on the lobby's hasJoined: a session server (lobby.sessionServer is any URL, and a captive
 * portal or a broken mirror can stand in for Mojang's) answering with an endless body. Up to 32 checks
 * run at once, so the lobby must not buffer what it is sent: a profile is a few kilobytes.
 */

let raw: Server | undefined;
afterEach(async () => {
  if (!raw) return;
  raw.closeAllConnections();
  await new Promise((r) => raw!.close(r));
  raw = undefined;
});

const PROFILE = JSON.stringify({ id: '0f4a2b7c9d1e4f5a8b6c3d2e1f0a9b8c', name: 'Alex', properties: [] });

/** Answers 200 with `padding` bytes of JSON whitespace and then a valid profile; counts what it managed to write. */
async function padded(padding: number, chunked: boolean): Promise<{ url: string; written: () => number }> {
  let written = 0;
  raw = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(padding + PROFILE.length) }) });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let left = padding;
    const pump = () => {
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        written += part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end(PROFILE);
    };
    res.on('close', () => (left = 0));
    pump();
  });
  await new Promise<void>((r) => raw!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}`, written: () => written };
}

describe('a session server that answers with a huge body', () => {
  for (const chunked of [false, true]) {
    it(`is refused as an answer of the wrong shape, without reading it all (${chunked ? 'chunked' : 'with a content-length'})`, async () => {
      const server = await padded(256 * 1024 * 1024, chunked);
      const rssBefore = process.memoryUsage().rss;
      const started = Date.now();
      const err = await hasJoined(server.url, 'Alex', '7f00', { timeoutMs: 20_000 }).then(
        (proven) => proven,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SessionServerError);
      expect((err as SessionServerError).kind).toBe('answer');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(server.written(), 'bytes the session server got to send').toBeLessThan(32 * 1024 * 1024);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    }, 30_000);
  }

  it('a real profile with a few properties still proves the account', async () => {
    const server = await padded(10_000, false);
    expect(await hasJoined(server.url, 'Alex', '7f00', { timeoutMs: 5_000 })).toMatchObject({ id: '0f4a2b7c9d1e4f5a8b6c3d2e1f0a9b8c', name: 'Alex' });
  });
});

describe('SessionServer fairness when full', () => {
  it('a newcomer displaces the newest check of the address asking two more; the displaced one is told busy; slots are given back once', async () => {
    raw = createServer(() => {}); // never answers
    await new Promise<void>((r) => raw!.listen(0, '127.0.0.1', r));
    const sessions = new SessionServer(`http://127.0.0.1:${(raw.address() as AddressInfo).port}`, 5_000, 2);
    const kinds = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => (e instanceof SessionServerError ? e.kind : String(e)));
    const gone = new AbortController();
    const a1 = kinds(sessions.hasJoined('A1', 'h', gone.signal, 'a'));
    const a2 = kinds(sessions.hasJoined('A2', 'h', gone.signal, 'a'));
    const b1 = kinds(sessions.hasJoined('B1', 'h', gone.signal, 'b'));
    expect(await a2).toBe('busy'); // the newest of the address asking the most
    // Now a and b ask one each: neither asks two more than the other, so a third is turned away.
    expect(await kinds(sessions.hasJoined('C1', 'h', gone.signal, 'c'))).toBe('busy');
    gone.abort();
    expect([await a1, await b1]).toEqual(['network', 'network']);
    // Both slots are free again (none counted twice, none lost): two more questions are asked.
    const again = new AbortController();
    const next = [kinds(sessions.hasJoined('D1', 'h', again.signal, 'd')), kinds(sessions.hasJoined('E1', 'h', again.signal, 'e'))];
    await new Promise((r) => setTimeout(r, 100));
    again.abort();
    expect(await Promise.all(next)).toEqual(['network', 'network']);
  });
});
