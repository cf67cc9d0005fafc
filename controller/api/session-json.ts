import { usd } from '../cost/billing.js';
import { sessionTimeline, type TimelineSession } from '../store/session-timeline.js';
import type { Store } from '../store/store.js';
import { amount } from '../web/static/relative-time.js';
import { journalJson } from './journal-json.js';

/** The API's shape of one session of a server's history (`ood history` prints it; the page reads the same words). */
export function sessionJson(s: TimelineSession, now: number) {
  const who = (p: { actor: string; name: string | null }) => ({ actor: p.actor, name: p.name });
  return {
    startedAt: new Date(s.startedAt).toISOString(),
    endedAt: s.endedAt === null ? null : new Date(s.endedAt).toISOString(),
    seconds: Math.floor(((s.endedAt ?? now) - s.startedAt) / 1000),
    startedBy: s.startedBy ? who(s.startedBy) : null,
    endedBy: s.endedBy === 'idle' ? ('idle' as const) : s.endedBy ? who(s.endedBy) : null,
    players: s.players,
    playerSeconds: s.playerSeconds,
    driver: s.driver,
    size: s.size,
    usd: s.usd,
    endedIn: s.endedIn,
    journal: s.journal.map(journalJson),
  };
}

export type SessionJson = ReturnType<typeof sessionJson>;

/**
 * A session in words, the same on the history page and in `ood history`: one place decides how a
 * session is told (who, who played, how long, what it cost, what it left).
 */
export function sessionWords(s: Pick<SessionJson, 'seconds' | 'startedBy' | 'endedBy' | 'players' | 'playerSeconds' | 'driver' | 'usd' | 'endedAt' | 'endedIn'>) {
  const person = (p: { actor: string; name: string | null }) => (p.name ? `${p.name} (${p.actor})` : p.actor);
  return {
    startedBy: s.startedBy ? person(s.startedBy) : 'not recorded',
    players: s.players.length ? s.players.join(', ') : 'nobody',
    playTime: s.playerSeconds > 0 ? `${amount(s.playerSeconds)} of play` : '',
    ran: s.endedAt === null ? `${amount(s.seconds)} so far` : amount(s.seconds),
    cost: s.usd !== null ? usd(s.usd) : s.driver === 'local' ? 'nothing (this machine)' : 'unknown (no price yet)',
    ended: s.endedAt === null ? 'still running' : s.endedBy === 'idle' ? 'when idle' : s.endedBy ? `by ${person(s.endedBy)}` : 'not recorded',
    endedIn: s.endedIn ?? (s.endedAt === null ? '-' : 'no snapshot recorded'),
  };
}

/** A server's sessions, newest first, and the steps since the last one that started no machine: for the API and the page. */
export function timelineJson(store: Store, server: string, now: number) {
  const timeline = sessionTimeline(store.db, server, { now, prices: store.billing.prices().prices });
  return { sessions: timeline.sessions.map((s) => sessionJson(s, now)), since: timeline.since.map(journalJson) };
}
