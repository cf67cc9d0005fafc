import { describe, expect, it } from 'vitest';
import { StreamCaps } from './stream-caps.js';

describe('StreamCaps', () => {
  it('refuses past the per-person, per-address and total caps, and lets a closed stream’s place go', () => {
    const caps = new StreamCaps({ total: 5, perPerson: 2, perAddress: 3 });
    const open = (who: string, from: string) => {
      const refused = caps.refusal(who, from);
      if (!refused) caps.add(who, from);
      return refused?.status ?? 200;
    };
    expect([open('a', 'x'), open('a', 'x'), open('a', 'y')]).toEqual([200, 200, 429]);
    expect(caps.refusal('a', 'y')!.message).toContain('You already have 2 live pages open');
    expect([open('b', 'x'), open('c', 'x')]).toEqual([200, 429]);
    expect(caps.refusal('c', 'x')!.message).toContain('from your address');
    expect([open('c', 'y'), open('d', 'z'), open('e', 'w')]).toEqual([200, 200, 503]);
    caps.remove('a', 'x');
    expect(open('e', 'w')).toBe(200);
  });
});
