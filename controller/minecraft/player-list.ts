import type { Players } from '../reconcile/types.js';

// Vanilla 1.13+: "There are 1 of a max of 20 players online: ann"; older: "There are 1/20 players online:ann".
const MODERN = /There are (\d+) of a max(?: of)? (\d+) players online:(.*)$/s;
const LEGACY = /There are (\d+)\/(\d+) players online:(.*)$/s;

/** Reads the answer to RCON `list`; undefined when it is in neither wording. */
export function parsePlayerList(reply: string): Players | undefined {
  const text = reply.replace(/§./g, '').trim();
  const match = MODERN.exec(text) ?? LEGACY.exec(text);
  if (!match) return undefined;
  const names = match[3]!
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  return { online: Number(match[1]), max: Number(match[2]), names };
}
