import type { ServerJson } from '../../api/server-json.js';
import type { Phase } from '../../reconcile/types.js';
import { may } from '../../store/people.js';
import { html, type Html } from '../html.js';
import { about, eta, iso, since as sinceWords } from './format.js';
import { csrfField, type PageContext } from './layout.js';

/** What a card shows of one server: its API JSON, how long starts and stops usually take, and where it runs. */
export interface ServerCard {
  json: ServerJson;
  typicalStartMs: number | undefined;
  typicalStopMs: number | undefined;
  where: { driver: 'local' } | { driver: 'digitalocean'; region: string; size: string };
}

const PHASE_WORDS: Record<Phase, string> = {
  archived: 'Asleep',
  provisioning: 'Starting: getting the machine ready',
  booting: 'Starting: the world is loading',
  running: 'Up',
  stopping: 'Stopping: saving the world',
  powering_off: 'Stopping: shutting down',
  snapshotting: 'Stopping: archiving the world',
  destroying: 'Stopping: cleaning up',
  failed: 'Needs attention',
};

const STARTING = new Set<Phase>(['provisioning', 'booting']);
const STOPPING = new Set<Phase>(['stopping', 'powering_off', 'snapshotting', 'destroying']);

export const phaseWords = (phase: Phase) => PHASE_WORDS[phase];

/** What a card says and offers. */
export interface CardState {
  label: string;
  tone: 'up' | 'off' | 'busy' | 'bad';
  start: boolean;
  stop: boolean;
  keepAlive: boolean;
}

/**
 * The card's label and buttons, from what is wanted, the phase and what needs a person, together: the
 * phase alone lagged behind a request (Stop pressed, still "Up" with a Start button for a tick), and
 * a server whose every check failed read "Asleep" with only Stop. Anything that needs a person offers
 * both buttons: Start to try again, Stop to give up and tidy away.
 */
export function cardState(s: Pick<ServerJson, 'desired' | 'phase' | 'alert'>): CardState {
  const calm = { start: false, stop: false, keepAlive: false };
  if (s.phase === 'failed' || s.alert) return { label: 'Needs attention', tone: 'bad', start: true, stop: true, keepAlive: false };
  if (s.desired === 'up') {
    if (s.phase === 'archived') return { ...calm, label: 'Starting: waking up', tone: 'busy', stop: true };
    if (s.phase === 'running') return { ...calm, label: PHASE_WORDS.running, tone: 'up', stop: true, keepAlive: true };
    if (STOPPING.has(s.phase)) return { ...calm, label: 'Stopping, then starting again', tone: 'busy', stop: true };
    return { ...calm, label: PHASE_WORDS[s.phase], tone: 'busy', stop: true };
  }
  if (s.phase === 'archived') return { ...calm, label: PHASE_WORDS.archived, tone: 'off', start: true };
  // Wanted down, not yet on its way: the stop is next, and Start now would only race it.
  if (s.phase === 'running' || STARTING.has(s.phase)) return { ...calm, label: 'Stopping: about to save the world', tone: 'busy' };
  return { ...calm, label: PHASE_WORDS[s.phase], tone: 'busy' };
}

/**
 * One server's card. The same function renders the page and every live update (sent whole over SSE),
 * so the page looks the same with and without its script; the script only counts times down.
 */
export function serverCard(page: PageContext, card: ServerCard, now: number): Html {
  const s = card.json;
  const since = s.since ? Date.parse(s.since) : now;
  const state = cardState(s);
  return html`<section class="server" id="server-${s.id}" aria-labelledby="title-${s.id}" data-phase="${s.phase}">
  <div class="server-head">
    <h2 id="title-${s.id}">${s.id}</h2>
    <p class="where">${card.where.driver === 'digitalocean' ? `DigitalOcean · ${card.where.region} · ${card.where.size}` : 'On this machine'}</p>
  </div>
  <p class="phase" role="status"><span class="dot dot-${state.tone}" aria-hidden="true"></span> ${state.label}</p>
  ${progress(s, card, since, now)}
  ${s.address ? html`<p class="address">Connect to <code id="address-${s.id}">${s.address}</code> <button type="button" class="copy" data-copy="${s.address}" hidden>Copy</button></p>` : ''}
  ${s.phase === 'running' ? players(s) : ''}
  ${s.phase === 'running' ? idle(s, now) : ''}
  ${s.alert ? html`<p class="alert" role="alert">${s.alert}</p>` : ''}
  ${copyNote(s, now)}
  ${s.lastError && s.phase === 'failed' ? html`<p class="error">Last error: ${s.lastError}</p>` : ''}
  ${buttons(page, s, state)}
  <p class="more"><a href="/servers/${s.id}">History of ${s.id}</a></p>
</section>`;
}

function progress(s: ServerJson, card: ServerCard, since: number, now: number): Html | '' {
  const typical = STARTING.has(s.phase) ? card.typicalStartMs : STOPPING.has(s.phase) ? card.typicalStopMs : undefined;
  if (!STARTING.has(s.phase) && !STOPPING.has(s.phase)) return '';
  const what = STARTING.has(s.phase) ? 'ready' : 'archived';
  if (typical === undefined) {
    return html`<p class="eta">Started <time datetime="${iso(since)}" data-relative="since">${sinceWords(since, now)}</time>; no earlier run to estimate from.</p>`;
  }
  const elapsed = Math.max(0, now - since);
  return html`<progress max="${Math.round(typical / 1000)}" value="${Math.min(Math.round(elapsed / 1000), Math.round(typical / 1000))}" aria-label="${what === 'ready' ? 'Start' : 'Stop'} progress" data-since="${iso(since)}"></progress>
  <p class="eta">${what === 'ready' ? 'Ready' : 'Archived'} <time datetime="${iso(since + typical)}" data-relative="eta">${eta(since + typical, now)}</time> (a usual ${what === 'ready' ? 'start' : 'stop'} takes ${about(typical)}).</p>`;
}

/** A copy of the world being taken, or the last one that failed: a warning, the server itself is fine. */
function copyNote(s: ServerJson, now: number): Html | '' {
  const copy = s.copy;
  if (!copy) return '';
  if (copy.since) {
    const since = Date.parse(copy.since);
    return html`<p class="copying">Copying the world to OoD's disk (saving is paused meanwhile), since <time datetime="${iso(since)}" data-relative="since">${sinceWords(since, now)}</time>.</p>`;
  }
  return copy.warning ? html`<p class="warning">The last copy of the world failed; OoD tries again at the next one: ${copy.warning}</p>` : '';
}

function players(s: ServerJson): Html {
  if (s.players.names.length === 0) return html`<p class="players-none">Nobody is on${s.players.max ? ` (room for ${s.players.max})` : ''}.</p>`;
  return html`<div class="players"><p>${s.players.online} of ${s.players.max} playing:</p>
  <ul>${s.players.names.map((name) => html`<li><img class="head" src="/heads/${encodeURIComponent(name)}.svg" alt="" width="24" height="24"> <span class="player">${name}</span></li>`)}</ul></div>`;
}

function idle(s: ServerJson, now: number): Html | '' {
  const stops = s.idle.stopsAt ? Date.parse(s.idle.stopsAt) : null;
  if (stops === null) return '';
  const empty = s.idle.emptySince ? Date.parse(s.idle.emptySince) : null;
  return html`<p class="idle">${empty !== null ? html`Empty since <time datetime="${iso(empty)}" data-relative="since">${sinceWords(empty, now)}</time>; stops` : 'Stops if nobody joins'} <time datetime="${iso(stops)}" data-relative="eta">${eta(stops, now)}</time>.</p>`;
}

function buttons(page: PageContext, s: ServerJson, state: CardState): Html | '' {
  const person = page.person;
  if (!person) return '';
  const out: Html[] = [];
  const form = (action: string, label: string, kind: string) =>
    html`<form method="post" action="/servers/${s.id}/${action}" class="inline">${csrfField(page)}<button type="submit" class="button ${kind}">${label}</button></form>`;
  if (may(person, 'start') && state.start) out.push(form('start', 'Start', 'primary'));
  if (may(person, 'stop') && state.stop) out.push(form('stop', 'Stop', 'danger'));
  if (may(person, 'start') && state.keepAlive) out.push(form('keepalive', 'Keep alive', 'secondary'));
  return out.length ? html`<div class="actions">${out}</div>` : '';
}

export function overviewBody(page: PageContext, cards: readonly ServerCard[], now: number, cost: Html | '' = ''): Html {
  return html`<h1 class="visually-hidden">Servers</h1>
${cost}
<div class="servers">${cards.map((card) => serverCard(page, card, now))}</div>
<noscript><p class="hint">This page updates itself with JavaScript; without it, reload to see changes.</p></noscript>`;
}
