import { describe, expect, it } from 'vitest';
import { discordPayload, escapeDiscord, eventKey, messageText, payloadFor, roughly, webhookPayload, type NotifyEvent } from './messages.js';

const AT = Date.UTC(2025, 10, 24, 18, 0, 0);

describe('notification texts', () => {
  it.each<[NotifyEvent, string]>([
    [{ kind: 'starting', server: 'survival', by: 'alice', etaMs: 70_000, at: AT }, 'alice is starting survival — ready in about 70 s'],
    [{ kind: 'starting', server: 'survival', by: 'alice', etaMs: 200_000, at: AT }, 'alice is starting survival — ready in about 3 min'],
    [{ kind: 'starting', server: 'survival', by: 'alice', etaMs: undefined, at: AT }, 'alice is starting survival'],
    [{ kind: 'up', server: 'survival', address: 'survival.example.com:25565', at: AT }, 'survival is up at survival.example.com:25565'],
    [{ kind: 'up', server: 'survival', address: null, at: AT }, 'survival is up'],
    [{ kind: 'empty', server: 'survival', stopsAt: AT + 300_000, at: AT }, 'survival is empty — archiving in 5 min'],
    [{ kind: 'empty', server: 'survival', stopsAt: AT + 299_400, at: AT }, 'survival is empty — archiving in 5 min'],
    [{ kind: 'empty', server: 'survival', stopsAt: AT + 2_000, at: AT }, 'survival is empty — archiving in 2 s'],
    [{ kind: 'empty', server: 'survival', stopsAt: null, at: AT }, 'survival is empty'],
    [{ kind: 'archived', server: 'survival', snapshot: 'ood-1764000000', at: AT }, 'survival is archived as ood-1764000000'],
    [{ kind: 'archived', server: 'survival', snapshot: null, at: AT }, 'survival is archived'],
    [{ kind: 'failed', server: 'survival', reason: 'boot failed after 3 attempts', at: AT }, 'survival failed: boot failed after 3 attempts'],
  ])('%o says "%s"', (event, text) => {
    expect(messageText(event)).toBe(text);
  });

  it('cuts a failure reason to 300 characters and keeps it on one line', () => {
    const text = messageText({ kind: 'failed', server: 'survival', reason: `line one\nline two ${'x'.repeat(400)}`, at: AT });
    const reason = text.slice('survival failed: '.length);
    expect(reason).toHaveLength(300);
    expect(reason.startsWith('line one line two x')).toBe(true);
    expect(reason.endsWith('…')).toBe(true);
  });

  it('rounds durations as the lobby does', () => {
    expect([roughly(0), roughly(1_400), roughly(119_400), roughly(120_000), roughly(119 * 60_000), roughly(3 * 3_600_000)]).toEqual(['0 s', '1 s', '119 s', '2 min', '119 min', '3 h']);
  });

  it('keys an event by server, kind and time', () => {
    expect(eventKey({ kind: 'up', server: 'survival', address: 'a:1', at: AT })).toBe(`survival:up:${AT}`);
  });
});

describe('payloads', () => {
  it('Discord gets the text, pings nobody, and names itself OoD', () => {
    const event: NotifyEvent = { kind: 'starting', server: 'survival', by: '@everyone', etaMs: 70_000, at: AT };
    expect(discordPayload(event)).toEqual({ content: '@everyone is starting survival — ready in about 70 s', allowed_mentions: { parse: [] }, flags: 4, username: 'OoD' });
    expect(JSON.parse(payloadFor('discord', event))).toEqual(discordPayload(event));
  });

  it("Discord's markdown in a name or a reason is shown as written", () => {
    expect(escapeDiscord('Alex_1 is *starting* <@123> `x` [a](b) ~~y~~ | > \\')).toBe('Alex\\_1 is \\*starting\\* \\<@123\\> \\`x\\` \\[a\\](b) \\~\\~y\\~\\~ \\| \\> \\\\');
    expect(escapeDiscord('# big')).toBe('\\# big');
    expect(escapeDiscord('- item')).toBe('\\- item');
    expect(discordPayload({ kind: 'starting', server: 'survival', by: 'Alex_1', etaMs: undefined, at: AT }).content).toBe('Alex\\_1 is starting survival');
  });

  it.each([
    ['https://evil.example/x', 'https\\://evil.example/x is starting survival'],
    ['HTTP://EVIL.example', 'HTTP\\://EVIL.example is starting survival'],
    ['@everyone', '@everyone is starting survival'],
    ['**bold**', '\\*\\*bold\\*\\* is starting survival'],
    ['[x](https://e.example)', '\\[x\\](https\\://e.example) is starting survival'],
    ['<steam://run/1>', '\\<steam\\://run/1\\> is starting survival'],
  ])('a name like %s reaches Discord as plain text: no link, no preview, no ping', (by, content) => {
    const payload = discordPayload({ kind: 'starting', server: 'survival', by, etaMs: undefined, at: AT });
    expect(payload.content).toBe(content);
    // Discord links a bare URL only where `scheme://` is written as such.
    expect(payload.content).not.toMatch(/[a-z]:\/\//i);
    // SUPPRESS_EMBEDS (1 << 2): no preview card for anything left linkable.
    expect(payload.flags).toBe(1 << 2);
    expect(payload.allowed_mentions).toEqual({ parse: [] });
  });

  it('the generic webhook gets the kind, the text, an ISO time and the fields', () => {
    expect(webhookPayload({ kind: 'starting', server: 'survival', by: 'alice', etaMs: 70_400, at: AT })).toEqual({
      event: 'starting',
      server: 'survival',
      text: 'alice is starting survival — ready in about 70 s',
      at: '2025-11-24T18:00:00.000Z',
      by: 'alice',
      etaSeconds: 70,
    });
    expect(webhookPayload({ kind: 'starting', server: 'survival', by: 'alice', etaMs: undefined, at: AT })).toMatchObject({ etaSeconds: null });
    expect(webhookPayload({ kind: 'up', server: 'survival', address: 'survival.example.com:25565', at: AT })).toMatchObject({ event: 'up', address: 'survival.example.com:25565' });
    expect(webhookPayload({ kind: 'empty', server: 'survival', stopsAt: AT + 300_000, at: AT })).toMatchObject({ event: 'empty', stopsAt: '2025-11-24T18:05:00.000Z' });
    expect(webhookPayload({ kind: 'archived', server: 'survival', snapshot: 'ood-1764000000', at: AT })).toMatchObject({ event: 'archived', snapshot: 'ood-1764000000', text: 'survival is archived as ood-1764000000' });
    const failed = webhookPayload({ kind: 'failed', server: 'survival', reason: 'y'.repeat(1000), at: AT });
    expect(failed).toMatchObject({ event: 'failed' });
    expect(failed.reason).toHaveLength(300);
  });
});
