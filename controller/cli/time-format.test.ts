import { describe, expect, it } from 'vitest';
import { cliTime } from './time-format.js';

describe('cliTime', () => {
  it('prints local time with its zone, to the second', () => {
    const at = Date.UTC(2026, 11, 6, 10, 31, 5);
    expect(cliTime(at, 'UTC')).toBe('2026-12-06 10:31:05 UTC');
    expect(cliTime(at, 'Europe/Berlin')).toBe('2026-12-06 11:31:05 GMT+1');
    expect(cliTime(Date.UTC(2026, 11, 6, 0, 0, 0), 'UTC')).toBe('2026-12-06 00:00:00 UTC');
  });

  it('reads ISO strings as the API sends them, and says "-" for none', () => {
    expect(cliTime('2026-12-06T10:31:05.000Z', 'UTC')).toBe('2026-12-06 10:31:05 UTC');
    expect(cliTime(null, 'UTC')).toBe('-');
  });
});
