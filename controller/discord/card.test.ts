import { describe, expect, it } from 'vitest';
import { EPHEMERAL, LIMITS, customId, notAllowed, notListed, parseCustomId, statusCard, statusCards, type CardFacts, type MessageData } from './card.js';

const NOW = Date.parse('2026-12-06T20:00:00Z');

const facts = (over: Partial<CardFacts> = {}): CardFacts => ({
  server: 'survival',
  phase: 'archived',
  desired: 'down',
  since: NOW - 60_000,
  address: null,
  players: null,
  stopsAt: null,
  alert: null,
  typicalStartMs: 70_000,
  typicalStopMs: 90_000,
  cost: { usd: 1.5, budgetUsd: 10 },
  ...over,
});

const ALL = { start: true, stop: true };
const labels = (m: MessageData) => (m.components ?? []).flatMap((row) => row.components.map((b) => `${b.label}=${b.custom_id}`));
const field = (m: MessageData, name: string) => m.embeds![0]!.fields.find((f) => f.name === name)?.value;

describe('statusCard', () => {
  it('offers an archived server Start, a running one Stop and Keep alive, as the web card does', () => {
    expect(labels(statusCard(facts(), ALL, NOW))).toEqual(['Start=ood:start:survival']);
    const running = statusCard(facts({ phase: 'running', desired: 'up', address: 'mc.example.com:25565', players: { online: 1, max: 20, names: ['Alex'] }, stopsAt: NOW + 600_000 }), ALL, NOW);
    expect(labels(running)).toEqual(['Stop=ood:stop:survival', 'Keep alive=ood:keepalive:survival']);
    expect(running.embeds![0]!.title).toBe('survival: Up');
    expect(field(running, 'Address')).toBe('`mc.example.com:25565`');
    expect(field(running, 'Players')).toBe('1 of 20: Alex');
    expect(field(running, 'Stops')).toBe(`<t:${(NOW + 600_000) / 1000}:R> if nobody is on`);
    expect(field(running, 'This month')).toBe('$1.50 of the $10.00 budget');
  });

  it('shows only the buttons the person may press', () => {
    expect(labels(statusCard(facts(), { start: false, stop: true }, NOW))).toEqual([]);
    expect(statusCard(facts(), { start: false, stop: true }, NOW).components).toEqual([]);
    const running = facts({ phase: 'running', desired: 'up' });
    expect(labels(statusCard(running, { start: true, stop: false }, NOW))).toEqual(['Keep alive=ood:keepalive:survival']);
    expect(labels(statusCard(running, { start: false, stop: true }, NOW))).toEqual(['Stop=ood:stop:survival']);
  });

  it('says when a start will be ready from the usual start, in Discord timestamps', () => {
    const booting = statusCard(facts({ phase: 'booting', desired: 'up', since: NOW - 10_000 }), ALL, NOW);
    expect(field(booting, 'Ready')).toBe(`<t:${(NOW + 60_000) / 1000}:R> (a usual start takes about 70 s)`);
    // Wanted up while still archived (days since the last stop): counted from now, not from the stop.
    const waking = statusCard(facts({ phase: 'archived', desired: 'up', since: NOW - 3 * 86_400_000 }), ALL, NOW);
    expect(field(waking, 'Ready')).toBe(`<t:${(NOW + 70_000) / 1000}:R> (a usual start takes about 70 s)`);
    const first = statusCard(facts({ phase: 'provisioning', desired: 'up', typicalStartMs: undefined }), ALL, NOW);
    expect(field(first, 'Ready')).toMatch(/no earlier run to estimate from/);
  });

  it('counts hours where servers cost no money', () => {
    expect(field(statusCard(facts({ cost: { hours: 3.25, playerHours: 1 } }), ALL, NOW), 'This month')).toBe('3.3 h up, 1.0 player-hours');
  });

  it('mentions nobody and keeps names and errors as plain text', () => {
    const card = statusCard(facts({ phase: 'failed', alert: '@everyone *boom* <@123>', players: null }), ALL, NOW);
    expect(card.allowed_mentions).toEqual({ parse: [] });
    expect(field(card, 'Needs attention')).toBe('@everyone \\*boom\\* \\<@123\\>');
    const named = statusCard(facts({ phase: 'running', desired: 'up', players: { online: 1, max: 5, names: ['a_b_'] } }), ALL, NOW);
    expect(field(named, 'Players')).toBe('1 of 5: a\\_b\\_');
  });

  it('holds every part to Discord limits: 300 players, a 5000-character error', () => {
    const names = Array.from({ length: 300 }, (_, i) => `Player_${i}_xxxxx`);
    const card = statusCard(facts({ phase: 'running', desired: 'up', players: { online: 300, max: 300, names }, alert: 'x'.repeat(5000) }), ALL, NOW);
    const embed = card.embeds![0]!;
    expect(embed.title.length).toBeLessThanOrEqual(LIMITS.title);
    expect(embed.fields.length).toBeLessThanOrEqual(LIMITS.fields);
    for (const f of embed.fields) expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    expect(field(card, 'Players')).toMatch(/ and \d+ more$/);
    const total = embed.title.length + embed.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(LIMITS.total);
    for (const row of card.components!) for (const b of row.components) expect(b.custom_id.length).toBeLessThanOrEqual(100);
  });

  it('is the same card for the same facts (an unchanged edit can be skipped)', () => {
    expect(JSON.stringify(statusCard(facts(), ALL, NOW))).toBe(JSON.stringify(statusCard(facts(), ALL, NOW)));
  });
});

describe('statusCards', () => {
  it('puts at most 10 embeds and 5 button rows in one message, within 6000 characters', () => {
    const many = Array.from({ length: 12 }, (_, i) => statusCard(facts({ server: `s${i}`, alert: 'y'.repeat(900) }), ALL, NOW));
    const message = statusCards(many);
    expect(message.embeds!.length).toBeLessThanOrEqual(10);
    expect(message.components!.length).toBeLessThanOrEqual(5);
    const total = message.embeds!.reduce((n, e) => n + e.title.length + e.fields.reduce((m, f) => m + f.name.length + f.value.length, 0), 0);
    expect(total).toBeLessThanOrEqual(LIMITS.total);
  });
});

describe('custom ids', () => {
  it('reads back what customId writes, and nothing else', () => {
    expect(parseCustomId(customId('keepalive', 'a-1'))).toEqual({ action: 'keepalive', server: 'a-1' });
    expect(parseCustomId('ood:delete:a')).toBeUndefined();
    expect(parseCustomId('ood:start:A')).toBeUndefined();
    expect(parseCustomId('ood:start:a:b')).toBeUndefined();
  });
});

describe('refusals', () => {
  it('are ephemeral; the not-listed one names the identity, the admins and the login route', () => {
    const m = notListed('discord:42', ['Ann', 'Bo_b'], 'https://ood.example.com');
    expect(m.flags).toBe(EPHEMERAL);
    expect(m.content).toContain('`discord:42`');
    expect(m.content).toContain('Ann, Bo\\_b');
    expect(m.content).toContain('https://ood.example.com/login');
    expect(m.allowed_mentions).toEqual({ parse: [] });
    expect(notAllowed('stop')).toMatchObject({ flags: EPHEMERAL, content: 'You may not stop servers; ask an admin to give you "stop".' });
  });
});
