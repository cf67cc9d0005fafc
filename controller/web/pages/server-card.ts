import type { ServerJson } from '../../api/server-json.js';
import type { Phase } from '../../reconcile/types.js';
import { may } from '../../store/people.js';
import { html, type Html } from '../html.js';
import { about, iso, relative } from './format.js';
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

/**
 * One server's card. The same function renders the page and every live update (sent whole over SSE),
 * so the page looks the same with and without its script; the script only counts times down.
 */
export function serverCard(page: PageContext, card: ServerCard, now: number): Html {
  const s = card.json;
  const since = s.since ? Date.parse(s.since) : now;
  const tone = s.phase === 'running' ? 'up' : s.phase === 'failed' ? 'bad' : s.phase === 'archived' ? 'off' : 'busy';
  return html`<section class="server" id="server-${s.id}" aria-labelledby="title-${s.id}" data-phase="${s.phase}">
  <div class="server-head">
    <h2 id="title-${s.id}">${s.id}</h2>
    <p class="where">${card.where.driver === 'digitalocean' ? `DigitalOcean · ${card.where.region} · ${card.where.size}` : 'On this machine'}</p>
  </div>
  <p class="phase" role="status"><span class="dot dot-${tone}" aria-hidden="true"></span> ${phaseWords(s.phase)}</p>
  ${progress(s, card, since, now)}
  ${s.address ? html`<p class="address">Connect to <code id="address-${s.id}">${s.address}</code> <button type="button" class="copy" data-copy="${s.address}" hidden>Copy</button></p>` : ''}
  ${s.phase === 'running' ? players(s) : ''}
  ${s.phase === 'running' ? idle(s, now) : ''}
  ${s.alert ? html`<p class="alert" role="alert">${s.alert}</p>` : ''}
  ${s.lastError && s.phase === 'failed' ? html`<p class="error">Last error: ${s.lastError}</p>` : ''}
  ${buttons(page, s)}
  <p class="more"><a href="/servers/${s.id}">History of ${s.id}</a></p>
</section>`;
}

function progress(s: ServerJson, card: ServerCard, since: number, now: number): Html | '' {
  const typical = STARTING.has(s.phase) ? card.typicalStartMs : STOPPING.has(s.phase) ? card.typicalStopMs : undefined;
  if (!STARTING.has(s.phase) && !STOPPING.has(s.phase)) return '';
  const what = STARTING.has(s.phase) ? 'ready' : 'archived';
  if (typical === undefined) {
    return html`<p class="eta">Since <time datetime="${iso(since)}" data-relative>${relative(since, now)}</time>; no earlier run to estimate from.</p>`;
  }
  const elapsed = Math.max(0, now - since);
  const left = Math.max(0, typical - elapsed);
  return html`<progress max="${Math.round(typical / 1000)}" value="${Math.min(Math.round(elapsed / 1000), Math.round(typical / 1000))}" aria-label="${what === 'ready' ? 'Start' : 'Stop'} progress" data-since="${iso(since)}"></progress>
  <p class="eta">${what === 'ready' ? 'Ready' : 'Archived'} <time datetime="${iso(since + typical)}" data-relative>${left > 0 ? `in ${about(left)}` : 'any moment now'}</time> (a usual ${what === 'ready' ? 'start' : 'stop'} takes ${about(typical)}).</p>`;
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
  return html`<p class="idle">${empty !== null ? html`Empty since <time datetime="${iso(empty)}" data-relative>${relative(empty, now)}</time>; stops` : 'Stops if nobody joins'} <time datetime="${iso(stops)}" data-relative>${relative(stops, now)}</time>.</p>`;
}

function buttons(page: PageContext, s: ServerJson): Html | '' {
  const person = page.person;
  if (!person) return '';
  const out: Html[] = [];
  const form = (action: string, label: string, kind: string) =>
    html`<form method="post" action="/servers/${s.id}/${action}" class="inline">${csrfField(page)}<button type="submit" class="button ${kind}">${label}</button></form>`;
  if (may(person, 'start') && (s.desired === 'down' || s.phase === 'failed')) out.push(form('start', 'Start', 'primary'));
  if (may(person, 'stop') && (s.desired === 'up' || s.phase === 'failed')) out.push(form('stop', 'Stop', 'danger'));
  if (may(person, 'start') && s.phase === 'running') out.push(form('keepalive', 'Keep alive', 'secondary'));
  return out.length ? html`<div class="actions">${out}</div>` : '';
}

export function overviewBody(page: PageContext, cards: readonly ServerCard[], now: number, cost: Html | '' = ''): Html {
  return html`<h1 class="visually-hidden">Servers</h1>
${cost}
<div class="servers">${cards.map((card) => serverCard(page, card, now))}</div>
<noscript><p class="hint">This page updates itself with JavaScript; without it, reload to see changes.</p></noscript>`;
}
