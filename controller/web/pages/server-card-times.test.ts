// The times a server card says, rendered as the page first shows them (the script counts them on with
// the same formatter, format.test.ts).
import { describe, expect, it } from 'vitest';
import type { ServerJson } from '../../api/server-json.js';
import type { Phase } from '../../reconcile/types.js';
import { serverCard, type ServerCard } from './server-card.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const at = (ms: number) => new Date(NOW + ms).toISOString();
const page = { person: undefined, csrf: 'x' };

function card(phase: Phase, o: { since?: number; emptySince?: number; stopsAt?: number; typicalStartMs?: number; typicalStopMs?: number } = {}): ServerCard {
  // Cast: the card grows fields (another change adds some); these tests need only the times.
  const json = {
    id: 'world',
    phase,
    desired: phase === 'archived' ? 'down' : 'up',
    since: at(o.since ?? 0),
    address: null,
    players: { online: 0, max: 10, names: [] },
    idle: { emptySince: o.emptySince === undefined ? null : at(o.emptySince), stopsAt: o.stopsAt === undefined ? null : at(o.stopsAt) },
    lastError: null,
    alert: null,
    tickError: null,
  } as ServerJson;
  return { json, typicalStartMs: o.typicalStartMs, typicalStopMs: o.typicalStopMs, where: { driver: 'local' } };
}

/** The card's words, tags gone, spaces squeezed. */
const text = (c: ServerCard) => serverCard(page, c, NOW).text.replace(/<\/?time[^>]*>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('the times on a server card', () => {
  it('says when a first start began, never "any moment now" of the past', () => {
    const words = text(card('provisioning', { since: -12_000 }));
    expect(words).toContain('Started 12 s ago; no earlier run to estimate from.');
    expect(words).not.toContain('any moment');
  });

  it('says a phase that began in the future (a skewed clock) began now', () => {
    expect(text(card('booting', { since: 3_000 }))).toContain('Started now;');
  });

  it('counts down to the usual start and says "any moment now" once it is due, never "just now"', () => {
    expect(text(card('booting', { since: -30_000, typicalStartMs: 75_000 }))).toContain('Ready in 45 s (a usual start takes about 75 s).');
    const late = text(card('booting', { since: -80_000, typicalStartMs: 75_000 }));
    expect(late).toContain('Ready any moment now (a usual start takes about 75 s).');
    const stopping = text(card('snapshotting', { since: -20_000, typicalStopMs: 20_500 }));
    expect(stopping).toContain('Archived any moment now');
    expect(stopping).not.toContain('just now');
  });

  it('adds up in a 10-min window: 3 min gone and 7 to go', () => {
    const emptySince = -(3 * 60_000 + 24_000);
    expect(text(card('running', { emptySince, stopsAt: emptySince + 10 * 60_000 }))).toContain('Empty since 3 min ago; stops in 7 min.');
  });

  it('marks each time for the page script with the wording it needs', () => {
    const html = serverCard(page, card('booting', { since: -30_000, typicalStartMs: 75_000 }), NOW).text;
    expect(html).toContain(`<time datetime="${at(45_000)}" data-relative="eta">`);
    const first = serverCard(page, card('booting', { since: -30_000 }), NOW).text;
    expect(first).toContain(`<time datetime="${at(-30_000)}" data-relative="since">`);
  });
});
