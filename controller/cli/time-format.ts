/**
 * The one way the CLI prints an instant: local time with its zone, to the second
 * (`2026-12-06 10:31:05 UTC`), so `status`, `journal`, `history`, `cost`, `archives` and `--wait`
 * read alike and a time copied from one can be found in another. The zone is the machine's (TZ)
 * unless a test names one.
 */
export function cliTime(at: number | string | null, timeZone?: string): string {
  if (at === null) return '-';
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return String(at);
  const parts = new Map(formatter(timeZone).formatToParts(ms).map((p) => [p.type, p.value]));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.get(type) ?? '??';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${part('timeZoneName')}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    // en-US only for the parts' names and digits; the order is ours. h23: midnight is 00, not 24.
    f = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short', ...(timeZone ? { timeZone } : {}) });
    formatters.set(key, f);
  }
  return f;
}
