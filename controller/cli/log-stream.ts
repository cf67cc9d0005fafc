import { request, type IncomingMessage } from 'node:http';
import type { LogLineJson } from '../api/console-routes.js';
import { ApiError } from './api-client.js';
import { terminalText } from './terminal-text.js';

/** `[14:03:07] text` in local time; OoD's own lines (phase changes, notes about the file) marked `[ood]`. */
export function formatLine(line: LogLineJson): string {
  const at = new Date(line.at);
  const time = Number.isNaN(at.getTime()) ? '--:--:--' : [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return `[${time}] ${line.kind === 'ood' ? '[ood] ' : ''}${terminalText(line.text)}`;
}

export interface FollowOptions {
  baseUrl: string;
  token: string | undefined;
  server: string;
  /** Where each formatted line goes (with its newline). */
  write: (text: string) => void;
  /** Ends the follow (Ctrl-C): the promise resolves, the connection is closed. */
  signal: AbortSignal;
  /** Wait before connecting again after the stream ended (the server's `retry:` overrides it). */
  retryMs?: number;
}

/**
 * `ood logs <server> -f`: the last lines, then every new one, from the API's event stream, until the
 * signal. When the stream ends (the controller restarted, or let go of a reader that fell behind) it
 * connects again; the backlog it then gets is printed only past the last line already shown, and when
 * that line has left the controller's ring, a note says lines may be missing. The first connection's
 * refusal (no such server, no permission) ends the command with the API's words.
 */
export async function followLogs(o: FollowOptions): Promise<void> {
  const printed = new Printed();
  let retryMs = o.retryMs ?? 2_000;
  let connected = false;
  let unreachableSaid = false;
  const note = (text: string) => o.write(`${formatLine({ at: new Date().toISOString(), kind: 'ood', text })}\n`);
  while (!o.signal.aborted) {
    printed.reconnected();
    const onEvent = (event: string, data: string) => {
      const got = received(event, data);
      if (got === 'gap') return note('this reader fell behind and the controller let it go; connecting again');
      for (const line of got ?? []) {
        const verdict = printed.verdict(line);
        if (verdict === 'missing') note('the stream was cut; lines may be missing here');
        if (verdict !== 'seen') o.write(`${formatLine(line)}\n`);
      }
    };
    try {
      await stream(o, new SseParser(onEvent, (ms) => (retryMs = ms)));
      connected = true;
      unreachableSaid = false;
    } catch (err) {
      // A refusal is final (its words say why); an unreachable controller, once it has answered, is waited for.
      if (err instanceof ApiError && err.status !== null) throw err;
      if (!connected) throw err;
      if (!unreachableSaid) note(`${(err as Error).message}; trying again`);
      unreachableSaid = true;
    }
    if (!o.signal.aborted) await sleep(retryMs, o.signal);
  }
}

/**
 * What was printed, as far as a reconnection needs: the newest line's time and the lines of that time.
 * A new stream starts with the controller's backlog; its lines up to the last one printed are `seen`.
 * The first line past them is `missing` when the backlog no longer reached back to it (the ring moved on
 * while the reader was away), else `new`, and from then on every line is new.
 */
export class Printed {
  private lastAt = -Infinity;
  private atLast = new Set<string>();
  private resuming = false;
  private reachedBack = false;

  reconnected(): void {
    this.resuming = this.lastAt !== -Infinity;
    this.reachedBack = false;
  }

  verdict(line: LogLineJson): 'seen' | 'new' | 'missing' {
    const at = Date.parse(line.at);
    const key = `${line.kind}\u0000${line.text}`;
    let verdict: 'seen' | 'new' | 'missing' = 'new';
    if (this.resuming) {
      if (at < this.lastAt || (at === this.lastAt && this.atLast.has(key))) {
        this.reachedBack = true;
        return 'seen';
      }
      this.resuming = false;
      if (!this.reachedBack) verdict = 'missing';
    }
    if (at !== this.lastAt) this.atLast = new Set();
    this.lastAt = at;
    this.atLast.add(key);
    return verdict;
  }
}

/** One event of web/console-stream.ts: `line` carries a JSON array of `{at (Unix ms), kind, text}`; `gap` says the reader fell behind. */
function received(event: string, data: string): LogLineJson[] | 'gap' | undefined {
  if (event === 'gap') return 'gap';
  if (event !== 'line') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!Array.isArray(body)) return undefined;
  const lines: LogLineJson[] = [];
  for (const item of body) {
    const l = item as { at?: unknown; kind?: unknown; text?: unknown } | null;
    if (typeof l?.text !== 'string' || typeof l.at !== 'number') continue;
    lines.push({ at: new Date(l.at).toISOString(), kind: l.kind === 'ood' ? 'ood' : 'game', text: l.text });
  }
  return lines;
}

/** One connection: resolves when the server ends the stream or the signal fires; rejects on a refusal or a network error. */
function stream(o: FollowOptions, parser: SseParser): Promise<void> {
  const url = new URL(`/api/servers/${encodeURIComponent(o.server)}/logs?follow=1`, o.baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const req = request(url, { method: 'GET', headers }, (res) => {
      if (res.statusCode !== 200) return void refusal(res, url).then(reject, reject);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.push(chunk));
      res.on('end', () => resolve());
      res.on('error', (err) => (o.signal.aborted ? resolve() : reject(err)));
      res.on('close', () => resolve());
    });
    const abort = () => {
      req.destroy();
      resolve();
    };
    o.signal.addEventListener('abort', abort, { once: true });
    req.on('close', () => o.signal.removeEventListener('abort', abort));
    req.on('error', (err) => (o.signal.aborted ? resolve() : reject(new ApiError(`Could not reach the OoD controller at ${o.baseUrl}: ${err.message}`, null, true, { cause: err }))));
    req.end();
  });
}

/** A refused stream as the API's own words, like every other `ood` command's failure. */
async function refusal(res: IncomingMessage, url: URL): Promise<ApiError> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let message = res.statusMessage ?? '';
  try {
    message = (JSON.parse(text) as { error?: string }).error ?? message;
  } catch {
    message = text.trim() || message;
  }
  const status = res.statusCode ?? 0;
  const hint = status === 401 ? ' (set OOD_ADMIN_TOKEN, or run this where the controller keeps its data)' : '';
  return new ApiError(`GET ${url.pathname} failed with ${status}: ${message}${hint}`, status, status >= 500);
}

/**
 * Server-sent events as the HTML standard parses them: lines end at CRLF, LF or CR, a blank line ends
 * an event, `:` starts a comment (the heartbeat), several `data:` lines join with a line break.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  constructor(
    private readonly onEvent: (event: string, data: string) => void,
    private readonly onRetry: (ms: number) => void = () => {},
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.onEvent(this.event || 'message', this.data.join('\n'));
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
