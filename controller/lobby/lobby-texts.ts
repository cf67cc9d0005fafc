import type { ServerView } from '../reconcile/loop.js';
import type { Estimate } from '../estimates.js';

const STARTING = new Set(['provisioning', 'booting']);

/** "about 70 s", "about 3 min", or "a minute or two" before the first start gives an estimate. */
export function readyIn(view: ServerView, estimate: Estimate, now: number): string {
  if (estimate.start === undefined) return 'a minute or two';
  const elapsed = STARTING.has(view.state.phase) ? now - view.state.phaseSince : 0;
  const left = Math.max(5_000, estimate.start - elapsed);
  const seconds = Math.round(left / 1000);
  return seconds < 120 ? `about ${seconds} s` : `about ${Math.round(seconds / 60)} min`;
}

/** The server list's line for a server the lobby answers for, by phase. */
export function motd(id: string, view: ServerView, estimate: Estimate, now: number): string {
  const { phase, desired } = view.state;
  if (phase === 'archived' && desired === 'up') return `${id}: starting, ready in ${readyIn(view, estimate, now)}`;
  if (phase === 'archived') return `${id}: asleep — join to wake it`;
  if (STARTING.has(phase)) return `${id}: starting, ready in ${readyIn(view, estimate, now)}`;
  if (phase === 'running') return `${id}: up`;
  if (phase === 'failed') return `${id}: needs attention — see OoD's page`;
  return `${id}: saving and going to sleep`;
}
