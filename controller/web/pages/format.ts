/** "in 12 min", "3 min ago", "just now": the same words the page script writes as time passes. */
export function relative(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const size = Math.abs(seconds);
  const amount = size < 60 ? `${size} s` : size < 3600 ? `${Math.round(size / 60)} min` : size < 86_400 ? `${Math.round(size / 3600)} h` : `${Math.round(size / 86_400)} d`;
  if (size < 5) return 'just now';
  return seconds > 0 ? `in ${amount}` : `${amount} ago`;
}

/** About how long, said plainly: "about 70 s", "about 3 min". */
export function about(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 120 ? `about ${seconds} s` : `about ${Math.round(seconds / 60)} min`;
}

/** An instant as an ISO string for `<time datetime>`. */
export const iso = (ms: number) => new Date(ms).toISOString();
