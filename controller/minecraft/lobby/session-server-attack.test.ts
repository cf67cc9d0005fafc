import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hasJoined, SessionServerError } from './session-server.js';

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
