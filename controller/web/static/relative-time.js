// The one wording of a time relative to now, past and future. The server imports this file to render
// pages (controller/web/pages/format.ts) and the page script imports the very same file from
// /static/relative-time.js to count times on as they pass, so the two can never disagree.
//
// Past times count whole units gone by (floor), future ones whole units not yet over (ceil), the way a
// countdown does: then "empty since 3 min ago; stops in 7 min" always adds up to the 10-min window.
// Within a second either way a time is "now"; "just now" is never said, least of all of the future.

/** Milliseconds within which a time is "now", either way. */
export const NOW_MS = 1000;

/** A duration in whole seconds as "45 s", "8 min", "1 h 5 min", "2 d 3 h" (no rounding here). */
export function amount(seconds) {
  if (seconds < 60) return seconds + ' s';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + ' min';
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? hours + ' h ' + (minutes % 60) + ' min' : hours + ' h';
  const days = Math.floor(hours / 24);
  return hours % 24 ? days + ' d ' + (hours % 24) + ' h' : days + ' d';
}

/**
 * Whole seconds of `ms`, rounded toward "fewer" for the past and "more" for the future, at the unit
 * `amount` shows: 3 min 59 s ago is "3 min ago", 7 min 1 s ahead is "in 8 min".
 */
export function wholeSeconds(ms, future) {
  const round = future ? Math.ceil : Math.floor;
  const s = round(ms / 1000);
  if (s < 60) return s;
  // Minutes are the smallest unit shown from 1 min to 1 d, hours beyond. Rounding up can cross into
  // the next unit (59.5 s ahead is 60 s): `amount` then shows it in that unit ("in 1 min").
  const step = s < 86400 ? 60 : 3600;
  return round(ms / 1000 / step) * step;
}

/** "in 8 min", "3 min ago", or "now" within a second of `now`. */
export function relative(at, now) {
  const ms = at - now;
  if (Math.abs(ms) < NOW_MS) return 'now';
  const text = amount(wholeSeconds(Math.abs(ms), ms > 0));
  return ms > 0 ? 'in ' + text : text + ' ago';
}

/** A time that has happened (a phase began): one in the future is a skewed clock, and is "now". */
export function since(at, now) {
  return at > now ? 'now' : relative(at, now);
}

/** A time something is expected by: "in 45 s" ahead, "any moment now" once it is due or overdue. */
export function eta(at, now) {
  return at - now >= NOW_MS ? relative(at, now) : 'any moment now';
}

/** The wording for a `<time data-relative="…">`: "" (either way), "since" or "eta". */
export function wordsFor(kind, at, now) {
  return kind === 'since' ? since(at, now) : kind === 'eta' ? eta(at, now) : relative(at, now);
}
