import { serverJson } from '../api/server-json.js';
import type { Controller } from '../controller.js';
import type { PhaseMove } from '../reconcile/runner-events.js';
import { may } from '../store/people.js';
import { allowedFor, statusCard, type CardFacts, type MessageData } from './card.js';

/**
 * A server's card facts, read from what the web's cards and cost line already compute (serverJson's
 * address, players and alert; the estimates; the cost meter's month), so Discord says what the page says.
 */
export function cardFacts(controller: Controller, id: string): CardFacts {
  const view = controller.view(id);
  const json = serverJson(view);
  const estimate = controller.estimates.of(id, view.state.phaseSince);
  return {
    server: id,
    phase: json.phase,
    desired: json.desired,
    since: view.state.phaseSince,
    address: json.address,
    players: json.phase === 'running' ? json.players : null,
    stopsAt: json.idle.stopsAt ? Date.parse(json.idle.stopsAt) : null,
    alert: json.alert ?? (json.phase === 'failed' ? json.lastError : null),
    typicalStartMs: estimate.start,
    typicalStopMs: estimate.stop,
    cost: monthCost(controller),
  };
}

/** Money where a server costs money (as the overview's cost line decides), else hours. */
export function monthCost(controller: Controller): CardFacts['cost'] {
  const month = controller.meter.month();
  const cloud = controller.config.servers.some((s) => s.driver === 'digitalocean');
  return cloud ? { usd: month.totalUsd, budgetUsd: controller.config.budget.monthlyUsd } : { hours: month.hours, playerHours: month.playerHours };
}

/**
 * The card `identity` sees of `server`, with the buttons their permissions allow (none for someone no
 * longer listed). With `move`, the card tells of that phase move (a follow-up edit, made inside the
 * loop's transaction): its phase, time and address win over what the view read, and its time stamps
 * the card, so the same move always makes the same card.
 */
export function cardFor(controller: Controller, server: string, identity: string, move?: PhaseMove, now = Date.now()): MessageData {
  const person = controller.store.people.get(identity);
  const allowed = person ? allowedFor((p) => may(person, p)) : { start: false, stop: false };
  const facts = cardFacts(controller, server);
  if (!move) return statusCard(facts, allowed, now);
  const shown = move.to === 'running' || move.to === 'booting';
  const moved: CardFacts = {
    ...facts,
    phase: move.to,
    since: move.at,
    address: shown ? (move.address ?? facts.address) : null,
    players: move.to === 'running' ? facts.players : null,
    stopsAt: move.to === 'running' ? facts.stopsAt : null,
    alert: move.to === 'failed' ? move.reason : facts.phase === move.to ? facts.alert : null,
  };
  return statusCard(moved, allowed, move.at);
}
