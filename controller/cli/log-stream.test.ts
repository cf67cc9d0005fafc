import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { followLogs, formatLine, Printed, SseParser } from './log-stream.js';
import { terminalText } from './terminal-text.js';

describe('SseParser', () => {
  it('reads events split anywhere, with CRLF, CR or LF, comments, and data on several lines', () => {
    const got: [string, string][] = [];
    const retries: number[] = [];
    const parser = new SseParser((event, data) => got.push([event, data]), (ms) => retries.push(ms));
    const text = 'retry: 2000\n\n:heartbeat\n\nevent: line\r\ndata: [1,\r\ndata: 2]\r\n\r\nevent: gap\rdata: {}\r\rdata: plain\n\n';
    for (const char of text) parser.push(char);
    expect(got).toEqual([['line', '[1,\n2]'], ['gap', '{}'], ['message', 'plain']]);
    expect(retries).toEqual([2000]);
  });
});

describe('formatLine and terminalText', () => {
  it('marks OoD lines and takes the terminal escapes out of the game text', () => {
    const at = new Date(2026, 11, 6, 9, 5, 7).toISOString();
    expect(formatLine({ at, kind: 'game', text: 'Alex joined the game' })).toBe('[09:05:07] Alex joined the game');
    expect(formatLine({ at, kind: 'ood', text: 'phase booting → running: ready' })).toBe('[09:05:07] [ood] phase booting → running: ready');
    expect(formatLine({ at, kind: 'game', text: '\u001b[2J§cred\u0007' })).toBe('[09:05:07] \uFFFD[2Jred\uFFFD');
    expect(terminalText('a\r\nb\u001bc\td', { keepLineBreaks: true })).toBe('a\nb\uFFFDc\td');
  });
});

describe('Printed (what a reconnection may print again)', () => {
  const line = (at: number, text: string) => ({ at: new Date(at).toISOString(), kind: 'game' as const, text });
  it('skips the backlog up to the last line shown, twins of the same instant included', () => {
    const printed = new Printed();
    printed.reconnected();
    expect([line(1, 'a'), line(2, 'b'), line(2, 'b')].map((l) => printed.verdict(l))).toEqual(['new', 'new', 'new']);
    printed.reconnected();
    expect([line(1, 'a'), line(2, 'b'), line(3, 'c'), line(3, 'c')].map((l) => printed.verdict(l))).toEqual(['seen', 'seen', 'new', 'new']);
  });
  it('says lines may be missing when the backlog no longer reaches back to what was shown', () => {
    const printed = new Printed();
    printed.reconnected();
    printed.verdict(line(5, 'e'));
    printed.reconnected();
    expect([line(9, 'x'), line(10, 'y')].map((l) => printed.verdict(l))).toEqual(['missing', 'new']);
  });
});

describe('followLogs', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  const listen = async (handler: (res: ServerResponse, n: number, auth: string | undefined) => void) => {
    let n = 0;
    server = createServer((req, res) => handler(res, ++n, req.headers.authorization));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };
  const event = (lines: { at: number; text: string; kind?: string }[]) => `event: line\ndata: ${JSON.stringify(lines.map((l) => ({ kind: 'game', ...l })))}\n\n`;

  it('prints the backlog, connects again when the stream ends, and prints only what it had not shown', async () => {
    const stop = new AbortController();
    const out: string[] = [];
    const url = await listen((res, n, auth) => {
      expect(auth).toBe('Bearer t0k');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 50\n\n');
      if (n === 1) {
        res.write(event([{ at: 1, text: 'one' }, { at: 2, text: 'two' }]));
        res.end();
      } else {
        // The backlog again, in two events, and one new line.
        res.write(event([{ at: 1, text: 'one' }]));
        res.write(event([{ at: 2, text: 'two' }, { at: 3, text: 'three', kind: 'ood' }]));
        setTimeout(() => stop.abort(), 50);
      }
    });
    await followLogs({ baseUrl: url, token: 't0k', server: 's', write: (t) => out.push(t), signal: stop.signal });
    expect(out.map((t) => t.replace(/^\[[\d:]+\] /, ''))).toEqual(['one\n', 'two\n', '[ood] three\n']);
  });

  it("ends with the API's words when the first connection is refused", async () => {
    const url = await listen((res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'You may not use servers\' consoles; ask an admin to give you "console".' }));
    });
    await expect(followLogs({ baseUrl: url, token: undefined, server: 's', write: () => {}, signal: new AbortController().signal })).rejects.toThrow(
      'GET /api/servers/s/logs failed with 403: You may not use servers\' consoles; ask an admin to give you "console".',
    );
  });
});
