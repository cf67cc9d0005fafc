import { describe, expect, it } from 'vitest';
import { humanBytes } from './human-bytes.js';

describe('humanBytes', () => {
  it.each([
    [0, '0 B'],
    [812, '812 B'],
    [4_200, '4.20 KB'],
    [37_512, '37.5 KB'],
    [37_500_000, '37.5 MB'],
    [1_020_000_000, '1.02 GB'],
  ])('%d → %s', (bytes, text) => expect(humanBytes(bytes)).toBe(text));
});
