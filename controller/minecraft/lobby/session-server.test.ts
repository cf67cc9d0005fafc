import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startSessionServer, type SessionStandIn } from '../../../test/helpers/session-server.js';
import { hasJoined, SessionServer, SessionServerError } from './session-server.js';

const ALEX = { id: '0f4a2b7c9d1e4f5a8b6c3d2e1f0a9b8c', name: 'Alex', accessToken: 'token-of-alex' };

let standIn: SessionStandIn | undefined;
let raw: Server | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
  if (raw) {
    raw.closeAllConnections();
    await new Promise((r) => raw!.close(r));
    raw = undefined;
  }
});

/** Joins as the client would (POST /session/minecraft/join). */
async function join(url: string, serverId: string): Promise<void> {
  const res = await fetch(`${url}/session/minecraft/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accessToken: ALEX.accessToken, selectedProfile: ALEX.id, serverId }) });
  expect(res.status).toBe(204);
}

/** A session server that answers every hasJoined with `status` and `body`. */
async function answering(status: number, body: string): Promise<string> {
  raw = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((r) => raw!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
}

describe('hasJoined', () => {
  it('returns the account the session server vouches for, and null for a join it has no record of', async () => {
    standIn = await startSessionServer([ALEX]);
    await join(standIn.url, '-4a1b2c');
    const proven = await hasJoined(standIn.url, 'alex', '-4a1b2c', { timeoutMs: 2_000 });
    expect(proven).toMatchObject({ id: ALEX.id, name: 'Alex', properties: [{ name: 'textures' }] });
    expect(await hasJoined(standIn.url, 'Alex', '7f00', { timeoutMs: 2_000 })).toBeNull();
    expect(await hasJoined(standIn.url, 'Steve', '-4a1b2c', { timeoutMs: 2_000 })).toBeNull();
    expect(standIn.calls.filter((c) => c.path.endsWith('hasJoined')).map((c) => [c.username, c.serverId, c.status])).toEqual([
      ['alex', '-4a1b2c', 200],
      ['Alex', '7f00', 204],
      ['Steve', '-4a1b2c', 204],
    ]);
  });

  it('is a SessionServerError, never an account, when the server hangs, is gone, or answers the wrong shape', async () => {
    standIn = await startSessionServer([ALEX]);
    standIn.mode = 'hang';
    const started = Date.now();
    await expect(hasJoined(standIn.url, 'Alex', '1', { timeoutMs: 300 })).rejects.toMatchObject({ name: 'SessionServerError', kind: 'timeout', message: 'The session server did not answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);

    const gone = standIn.url;
    await standIn.close();
    standIn = undefined;
    await expect(hasJoined(gone, 'Alex', '1', { timeoutMs: 2_000 })).rejects.toMatchObject({ kind: 'network' });

    for (const [status, body, message] of [
      [200, '{"id":"not-hex","name":"Alex","properties":[]}', 'no valid id'],
      [200, `{"id":"${ALEX.id}","name":"A lex","properties":[]}`, 'no valid name'],
      [200, `{"id":"${ALEX.id}","name":"Alex","properties":[{"name":"textures"}]}`, 'malformed property'],
      [200, `{"id":"${ALEX.id}","name":"Alex","properties":{}}`, 'not a list'],
      [200, '<html>', 'not JSON'],
      [500, '', 'HTTP 500'],
    ] as const) {
      const url = await answering(status, body);
      await expect(hasJoined(url, 'Alex', '1', { timeoutMs: 2_000 })).rejects.toThrow(message);
      raw!.closeAllConnections();
      await new Promise((r) => raw!.close(r));
      raw = undefined;
    }
  });

  it('stops asking when the player leaves (its signal)', async () => {
    standIn = await startSessionServer([ALEX]);
    standIn.mode = 'hang';
    const left = new AbortController();
    const asked = hasJoined(standIn.url, 'Alex', '1', { timeoutMs: 10_000, signal: left.signal });
    setTimeout(() => left.abort(), 100);
    await expect(asked).rejects.toMatchObject({ kind: 'network' });
  });
});

describe('SessionServer', () => {
  it('asks at most maxInFlight at once; the next join is told to try again, and a slot frees when one ends', async () => {
    standIn = await startSessionServer([ALEX]);
    standIn.mode = 'hang';
    const sessions = new SessionServer(standIn.url, 400, 2);
    const first = sessions.hasJoined('Alex', '1');
    const second = sessions.hasJoined('Alex', '2');
    await expect(sessions.hasJoined('Alex', '3')).rejects.toThrow(new SessionServerError('2 joins are being verified already', 'busy'));
    await expect(first).rejects.toMatchObject({ kind: 'timeout' });
    await expect(second).rejects.toMatchObject({ kind: 'timeout' });
    standIn.mode = 'no-session';
    expect(await sessions.hasJoined('Alex', '4')).toBeNull();
  });
});
