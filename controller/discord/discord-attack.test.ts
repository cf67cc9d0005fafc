// Attacks on the Discord side of issue 21 from outside: an anonymous client at the interactions
// endpoint, and a Discord API (or a proxy in front of it) answering `ood discord register` oddly.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { discordKeys } from '../../test/helpers/discord.js';
import type { Controller } from '../controller.js';
import { silentLogger } from '../log.js';
import { registerCommands } from './register.js';
import { discordRoutes } from './routes.js';

const keys = discordKeys();

/** The endpoint alone, on a controller that has only what the route reads at mount. */
async function endpoint(): Promise<{ server: Server; port: number }> {
  const controller = { config: { discord: { publicKey: keys.publicKeyHex, applicationId: '2' }, servers: [] }, discordFollowups: undefined } as unknown as Controller;
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = (err as { status?: number }).status ?? 500;
      ctx.body = { error: (err as Error).message };
    }
  });
  app.use(discordRoutes(controller, { log: silentLogger, origin: 'http://127.0.0.1' }).routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Sends only the request's head (a body declared and never sent) and says what came back within `ms`. */
function headOnly(port: number, headers: Record<string, string>, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, ms);
    socket.on('data', (b) => {
      text += b.toString();
      if (text.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`POST /discord/interactions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 262000\r\n${extra}\r\n`);
  });
}

describe('the interactions endpoint against an anonymous client', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it('refuses a request with no signature at once, without waiting for (and holding) its 256 KiB body', async () => {
    const e = await endpoint();
    server = e.server;
    // Unsigned: nothing in the body can make it valid, so a 401 need not read it. Reading first lets one
    // client hold a connection and up to 256 KiB each for as long as it trickles the body.
    const answer = await headOnly(e.port, {}, 1_000);
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
  });

  it('refuses a signature that is not 128 hex digits, or a timestamp that is not a number, before reading the body', async () => {
    const e = await endpoint();
    server = e.server;
    const ts = String(Math.floor(Date.now() / 1000));
    expect(await headOnly(e.port, { 'X-Signature-Ed25519': 'zz', 'X-Signature-Timestamp': ts }, 1_000)).toMatch(/^HTTP\/1\.1 401/);
    expect(await headOnly(e.port, { 'X-Signature-Ed25519': 'a'.repeat(128), 'X-Signature-Timestamp': 'yesterday' }, 1_000)).toMatch(/^HTTP\/1\.1 401/);
  });
});

describe('ood discord register against odd answers', () => {
  const token = 'MTIz.SECRET-bot-token.abc';
  it('keeps the bot token out of the error when a 200 answer is not JSON (a proxy echoing the request)', async () => {
    const fetchEcho = (async (_url: string, init: RequestInit) =>
      new Response(`<html>debug: authorization=${(init.headers as Record<string, string>).authorization}</html>`, { status: 200 })) as unknown as typeof fetch;
    const err = await registerCommands({ apiUrl: 'http://127.0.0.1:9', applicationId: '2', token, fetch: fetchEcho }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/not JSON/);
    expect(err?.message).not.toContain(token);
  });

  it('does not wait when a 429 asks for an absurd retry_after, and says so', async () => {
    let calls = 0;
    const slow = (async () => {
      calls++;
      return new Response(JSON.stringify({ message: 'You are being rate limited.', retry_after: 1e300, global: false }), { status: 429 });
    }) as unknown as typeof fetch;
    const waits: number[] = [];
    const err = await registerCommands({ apiUrl: 'http://127.0.0.1:9', applicationId: '2', token, fetch: slow, sleep: async (ms) => void waits.push(ms) }).catch((e: unknown) => e as Error);
    expect(waits).toEqual([]);
    expect(calls).toBe(1);
    expect((err as Error).message).toMatch(/longer than 60 s/);
  });
});
