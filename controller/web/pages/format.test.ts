import { describe, expect, it } from 'vitest';
import { eta, relative, since } from './format.js';

const T = Date.UTC(2026, 11, 6, 12, 0, 0);
const s = 1000;
const min = 60 * s;
const h = 60 * min;

describe('relative times: one wording, past and future', () => {
  it.each([
    [0, 'now'],
    [400, 'now'],
    [-999, 'now'],
    [1200, 'in 2 s'],
    [-1200, '1 s ago'],
    [-4 * s, '4 s ago'],
    [4 * s, 'in 4 s'],
    [45 * s, 'in 45 s'],
    [59.5 * s, 'in 1 min'],
    [-59.5 * s, '59 s ago'],
    [7 * min + 1 * s, 'in 8 min'],
    [-(3 * min + 59 * s), '3 min ago'],
    [65 * min, 'in 1 h 5 min'],
    [-2 * h, '2 h ago'],
    [-(26 * h + 10 * min), '1 d 2 h ago'],
    [48 * h, 'in 2 d'],
  ])('%d ms from now is "%s"', (delta, words) => {
    expect(relative(T + delta, T)).toBe(words);
  });

  it('never says "just now", least of all of the future', () => {
    for (let delta = -10 * s; delta <= 10 * s; delta += 100) expect(relative(T + delta, T)).not.toContain('just now');
    for (let delta = 1000; delta <= 10 * s; delta += 100) expect(relative(T + delta, T)).toMatch(/^in /);
  });

  it('adds up: the part of a window gone by and the part left make the window, at every second', () => {
    for (const window of [10 * min, 15 * min, 45 * min]) {
      const start = T;
      for (let now = start + 61 * s; now < start + window - 61 * s; now += 7_300) {
        const gone = Number(/^(\d+) min ago$/.exec(relative(start, now))?.[1] ?? NaN);
        const left = Number(/^in (\d+) min$/.exec(relative(start + window, now))?.[1] ?? NaN);
        expect(gone + left, `at ${now - start} ms: ${relative(start, now)} / ${relative(start + window, now)}`).toBe(window / min);
      }
    }
  });

  it('says a past event that lies in the future (a skewed clock) happened now', () => {
    expect(since(T + 5 * s, T)).toBe('now');
    expect(since(T - 5 * s, T)).toBe('5 s ago');
  });

  it('says an expected time is "any moment now" once it is due, and counts down before', () => {
    expect(eta(T + 45 * s, T)).toBe('in 45 s');
    expect(eta(T + 500, T)).toBe('any moment now');
    expect(eta(T - 30 * s, T)).toBe('any moment now');
  });
});
