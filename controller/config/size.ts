import { z } from 'zod';

const UNIT_BYTES = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 } as const;
const PATTERN = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)$/i;

/** Parses "2GB", "512MB", "1.5GB", "100B" into bytes (binary units: 1 KB = 1024 B); undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_BYTES[match[2]!.toUpperCase() as keyof typeof UNIT_BYTES]);
}

/** A zod type for a size written as text in the config file ("2GB"), parsed to bytes. */
export const size = z
  .string({ error: (issue) => (typeof issue.input === 'number' ? `got the number ${issue.input}; write a size such as 2GB or 512MB` : undefined) })
  .transform((text, ctx) => {
    const bytes = parseSize(text);
    if (bytes === undefined || bytes < 1) {
      ctx.addIssue({ code: 'custom', message: `expected a size like "2GB" or "512MB", got "${text}"` });
      return z.NEVER;
    }
    return bytes;
  });

/** Bytes the way the config file writes them: "2GB", "1.5MB", "1MB" (binary units, as parseSize reads them). */
export function formatSize(bytes: number): string {
  for (const unit of ['TB', 'GB', 'MB', 'KB'] as const) {
    const value = bytes / UNIT_BYTES[unit];
    if (value >= 1) return `${Number.isInteger(value) ? value : value.toFixed(value >= 100 ? 0 : 1)}${unit}`;
  }
  return `${bytes}B`;
}
