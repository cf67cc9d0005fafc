import { describe, expect, it } from 'vitest';
import { alwaysOnWords, dropletCharge, monthCost, snapshotCharge, type BilledSession, type Price } from './billing.js';

const ONE_GB: Price = { hourly: 0.00893, monthly: 6 };
const prices = new Map([['s-1vcpu-1gb', ONE_GB]]);
const at = (iso: string) => Date.parse(iso);
const session = (id: number, startedAt: number, endedAt: number | null, playerSeconds = 0): BilledSession => ({ id, server: 'survival', size: 's-1vcpu-1gb', startedAt, endedAt, playerSeconds });

describe('billing arithmetic', () => {
  it('bills droplets per second, with a minimum of 60 s or $0.01', () => {
    expect(dropletCharge(3600, ONE_GB)).toBeCloseTo(0.01, 5); // $0.00893 an hour is under the $0.01 minimum
    expect(dropletCharge(2 * 3600, ONE_GB)).toBeCloseTo(0.01786, 5);
    expect(dropletCharge(10, { hourly: 1, monthly: 672 })).toBeCloseTo(60 / 3600, 6); // 10 s is billed as 60
    expect(dropletCharge(0, ONE_GB)).toBe(0);
  });

  it('bills snapshots by GB-month of their life', () => {
    expect(snapshotCharge(2, 672 * 3600)).toBeCloseTo(0.12, 6);
    expect(snapshotCharge(2, 336 * 3600)).toBeCloseTo(0.06, 6);
  });

  it('splits a session across a month boundary, with the minimum in the month it began', () => {
    const crossing = session(1, at('2026-10-31T23:00:00Z'), at('2026-11-01T02:00:00Z'));
    const november = monthCost({ sessions: [crossing], snapshots: [], prices, now: at('2026-11-15T00:00:00Z'), alwaysOnSizes: ['s-1vcpu-1gb'] });
    expect(november.sessions[0]!.seconds).toBe(2 * 3600);
    expect(november.dropletsUsd).toBeCloseTo(2 * 0.00893, 6);
    const october = monthCost({ sessions: [crossing], snapshots: [], prices, now: at('2026-10-31T23:59:59Z'), alwaysOnSizes: [] });
    expect(october.dropletsUsd).toBeCloseTo(0.01, 6); // 59m59s at $0.00893/h is under the minimum
  });

  it('caps a server at its monthly price, and counts snapshots to now and, for the forecast, to the month end', () => {
    const allMonth = session(1, at('2026-11-01T00:00:00Z'), null);
    const cost = monthCost({
      sessions: [allMonth],
      snapshots: [{ name: 'ood-1', server: 'survival', sizeGb: 2, createdAt: at('2026-10-01T00:00:00Z'), deletedAt: null }],
      prices,
      now: at('2026-11-30T23:00:00Z'),
      alwaysOnSizes: ['s-1vcpu-1gb'],
    });
    expect(cost.dropletsUsd).toBe(6);
    expect(cost.snapshotsUsd).toBeCloseTo(snapshotCharge(2, (29 * 24 + 23) * 3600), 6);
    expect(cost.forecastUsd).toBeCloseTo(6 + snapshotCharge(2, 30 * 24 * 3600), 6);
    expect(cost.alwaysOnUsd).toBe(6);
  });

  it('gives cost per session and per player-hour, and hours without money on a driver without prices', () => {
    const cost = monthCost({ sessions: [session(1, at('2026-11-02T10:00:00Z'), at('2026-11-02T13:00:00Z'), 2 * 3 * 3600)], snapshots: [], prices, now: at('2026-11-03T00:00:00Z'), alwaysOnSizes: [] });
    expect(cost.sessions[0]!.usd).toBeCloseTo(3 * 0.00893, 6);
    expect(cost.playerHours).toBeCloseTo(6, 6);
    expect(cost.perPlayerHourUsd).toBeCloseTo((3 * 0.00893) / 6, 6);
    const local = monthCost({ sessions: [{ ...session(2, at('2026-11-02T10:00:00Z'), at('2026-11-02T12:00:00Z')), size: null }], snapshots: [], prices, now: at('2026-11-03T00:00:00Z'), alwaysOnSizes: [] });
    expect(local.sessions[0]!.usd).toBeNull();
    expect(local.hours).toBeCloseTo(2, 6);
    expect(local.totalUsd).toBe(0);
  });

  it('says the always-on price is unknown, and why, instead of $0.00 when prices could not be fetched', () => {
    const none = monthCost({ sessions: [], snapshots: [], prices: new Map(), now: at('2026-11-03T00:00:00Z'), alwaysOnSizes: ['s-1vcpu-2gb'] });
    expect(none.unpricedSizes).toEqual(['s-1vcpu-2gb']);
    expect(alwaysOnWords({ ...none, pricesError: 'DigitalOcean GET /v2/sizes failed: no answer' })).toBe(
      "always-on price unknown: DigitalOcean's prices could not be fetched (DigitalOcean GET /v2/sizes failed: no answer); costs of s-1vcpu-2gb are left out",
    );
    expect(alwaysOnWords(none)).toMatch(/^always-on price unknown: DigitalOcean's prices are not fetched yet/);
    const known = monthCost({ sessions: [], snapshots: [], prices, now: at('2026-11-03T00:00:00Z'), alwaysOnSizes: ['s-1vcpu-1gb'] });
    expect(alwaysOnWords(known)).toBe('$6.00 if always on');
  });
});
