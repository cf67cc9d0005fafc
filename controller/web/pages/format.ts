// The page time formatter is the shared static module the page script loads too: one implementation.
export { amount, eta, relative, since, wordsFor, type RelativeKind } from '../static/relative-time.js';

/** About how long, said plainly: "about 70 s", "about 3 min". */
export function about(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 120 ? `about ${seconds} s` : `about ${Math.round(seconds / 60)} min`;
}

/** An instant as an ISO string for `<time datetime>`. */
export const iso = (ms: number) => new Date(ms).toISOString();
