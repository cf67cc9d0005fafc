import { createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autocompleteBody, commandBody, componentBody, discordKeys, pingBody, signedPost, signInteraction, startDiscordReceiver, type DiscordReceiver } from './discord.js';

// The Discord fixtures checked against node:crypto and against themselves, so a test that uses them
// fails for OoD's reasons, not the helper's.

describe('Discord test helper', () => {
  const keys = discordKeys();
  const verifyWith = (hex: string, headers: { 'X-Signature-Ed25519': string; 'X-Signature-Timestamp': string }, raw: string): boolean => {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
    return verify(null, Buffer.from(headers['X-Signature-Timestamp'] + raw), key, Buffer.from(headers['X-Signature-Ed25519'], 'hex'));
  };

  it('signs timestamp + body with a key that the 64-hex public key verifies', () => {
    expect(keys.publicKeyHex).toMatch(/^[0-9a-f]{64}$/);
    const raw = JSON.stringify(pingBody({ applicationId: '42' }));
    const headers = signInteraction(raw, keys, { timestamp: 1_700_000_000 });
    expect(headers['X-Signature-Timestamp']).toBe('1700000000');
    expect(headers['X-Signature-Ed25519']).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyWith(keys.publicKeyHex, { ...headers }, raw)).toBe(true);
    expect(verifyWith(keys.publicKeyHex, { ...headers }, raw.replace('42', '43'))).toBe(false);
    expect(verifyWith(discordKeys().publicKeyHex, { ...headers }, raw)).toBe(false);
  });

  it('builds the four interaction types as Discord documents them', () => {
    const ctx = { applicationId: '42', guildId: '7' };
    const caller = { userId: '555' };
    expect(pingBody(ctx)).toMatchObject({ type: 1, application_id: '42' });
    expect(pingBody(ctx)).not.toHaveProperty('member');
    const start = commandBody(ctx, caller, 'start', 'survival');
    expect(start).toMatchObject({ type: 2, guild_id: '7', member: { user: { id: '555' } }, data: { name: 'ood', type: 1, options: [{ type: 1, name: 'start', options: [{ type: 3, name: 'server', value: 'survival' }] }] } });
    expect(commandBody(ctx, caller, 'status')).toMatchObject({ data: { options: [{ name: 'status', options: [] }] } });
    expect(componentBody(ctx, caller, 'ood:stop:survival', '999')).toMatchObject({ type: 3, data: { custom_id: 'ood:stop:survival', component_type: 2 }, message: { id: '999' } });
    expect(autocompleteBody(ctx, caller, 'stop', 'sur')).toMatchObject({ type: 4, data: { options: [{ name: 'stop', options: [{ name: 'server', value: 'sur', focused: true }] }] } });
    expect(commandBody(ctx, caller, 'status').id).not.toBe(commandBody(ctx, caller, 'status').id);
  });

  describe('signedPost and the receiver', () => {
    let receiver: DiscordReceiver;
    beforeAll(async () => { receiver = await startDiscordReceiver(); });
    afterAll(async () => { await receiver.close(); });

    it('posts a body that verifies, and a tampered one that does not', async () => {
      const seen: { headers: { 'X-Signature-Ed25519': string; 'X-Signature-Timestamp': string }; raw: string }[] = [];
      const server = createServer((req, res) => {
        let raw = '';
        req.on('data', (c: Buffer) => (raw += c.toString()));
        req.on('end', () => {
          seen.push({ headers: { 'X-Signature-Ed25519': String(req.headers['x-signature-ed25519']), 'X-Signature-Timestamp': String(req.headers['x-signature-timestamp']) }, raw });
          res.setHeader('content-type', 'application/json');
          res.end('{"type":1}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discord/interactions`;
      try {
        const ok = await signedPost(url, pingBody({ applicationId: '42' }), keys);
        expect(ok).toMatchObject({ status: 200, json: { type: 1 } });
        await signedPost(url, pingBody({ applicationId: '42' }), keys, { signBody: '{}' });
        const [good, tampered] = seen;
        expect(good && verifyWith(keys.publicKeyHex, good.headers, good.raw)).toBe(true);
        expect(tampered && verifyWith(keys.publicKeyHex, tampered.headers, tampered.raw)).toBe(false);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });

    it('records requests, keeps commands per scope, and answers 429 when told', async () => {
      receiver.rateLimitNext(1, 0.25);
      const limited = await fetch(`${receiver.apiUrl}/applications/42/guilds/7/commands`, { method: 'PUT', body: '[{"name":"ood"}]' });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(await limited.json()).toEqual({ message: 'You are being rate limited.', retry_after: 0.25, global: false });
      const put = await fetch(`${receiver.apiUrl}/applications/42/guilds/7/commands`, { method: 'PUT', body: '[{"name":"ood"}]' });
      const [stored] = (await put.json()) as [{ id: string }];
      await fetch(`${receiver.apiUrl}/applications/42/guilds/7/commands`, { method: 'PUT', body: '[{"name":"ood"}]' });
      expect(receiver.commands.get('guild:7')).toMatchObject([{ name: 'ood', id: stored.id, guild_id: '7' }]);
      expect(await (await fetch(`${receiver.apiUrl}/applications/42/commands`)).json()).toEqual([]);

      await fetch(`${receiver.apiUrl}/webhooks/42/tok/messages/@original`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"content":"hi"}' });
      const patches = await receiver.waitFor('the PATCH', (r) => r.method === 'PATCH');
      expect(patches[0]).toMatchObject({ path: '/webhooks/42/tok/messages/@original', body: { content: 'hi' } });
      expect(patches[0]?.headers['content-type']).toBe('application/json');
      receiver.answerNext(1, { status: 404, body: { message: 'Unknown Webhook', code: 10015 } });
      expect((await fetch(`${receiver.apiUrl}/webhooks/42/tok/messages/@original`, { method: 'PATCH', body: '{}' })).status).toBe(404);
      expect(receiver.requests.map((r) => r.method)).toEqual(['PUT', 'PUT', 'PUT', 'GET', 'PATCH', 'PATCH']);
    });
  });
});
