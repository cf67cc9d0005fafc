import { describe, expect, it } from 'vitest';
import { DescriptorBudget, reserveFor, softOpenFileLimit } from './descriptor-budget.js';

const limits = (soft: string, hard: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                ${hard}                files\n`;

describe('descriptor budget', () => {
  it('reads the soft limit and always leaves a reserve', () => {
    expect(softOpenFileLimit(limits('20000', '40000'))).toBe(20_000);
    expect(softOpenFileLimit(limits('unlimited', 'unlimited'))).toBe(Infinity);
    expect(softOpenFileLimit('')).toBeUndefined();
    expect(DescriptorBudget.forProcess(limits('20000', '20000')).max).toBe(15_000);
    expect(DescriptorBudget.forProcess(limits('1024', '4096')).max).toBe(768);
    expect(DescriptorBudget.forProcess('').max).toBe(768); // not Linux: 1024 assumed
    expect(reserveFor(300)).toBe(256);
  });
});
