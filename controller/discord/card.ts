import { usd } from '../cost/billing.js';
import { cut, escapeDiscord } from '../notify/messages.js';
import type { Desired, Phase } from '../reconcile/types.js';
import { about } from '../web/pages/format.js';
import { cardState, type CardState } from '../web/pages/server-card.js';

/**
 * What Discord shows for an interaction: the answer's `data` (https://discord.com/developers/docs/
 * interactions/receiving-and-responding#interaction-response-object-messages). `allowed_mentions`
 * is always empty, so an `@everyone` in a player's name or an error pings nobody.
 */
export interface MessageData {
  content?: string;
  embeds?: Embed[];
  components?: ActionRow[];
  flags?: number;
  allowed_mentions: { parse: never[] };
}

export interface Embed {
  title: string;
  color: number;
  description?: string;
  fields: { name: string; value: string; inline?: boolean }[];
  timestamp: string;
}

export interface Button {
  type: 2;
  /** 2 secondary (grey), 3 success (green), 4 danger (red). */
  style: 2 | 3 | 4;
  label: string;
  custom_id: string;
}

export interface ActionRow {
  type: 1;
  components: Button[];
}

/** Discord's message flag EPHEMERAL: only the person who asked sees the answer. */
export const EPHEMERAL = 1 << 6;

/** The buttons' custom ids are `ood:<action>:<server>`; a server id is ≤ 31 characters, so ≤ 45 of Discord's 100. */
export type ButtonAction = 'start' | 'stop' | 'keepalive';
export const BUTTON_ACTIONS: readonly ButtonAction[] = ['start', 'stop', 'keepalive'];

export const customId = (action: ButtonAction, server: string) => `ood:${action}:${server}`;

/** Reads a button's custom id back; anything else (an old or forged id) is undefined. */
export function parseCustomId(id: string): { action: ButtonAction; server: string } | undefined {
  const m = /^ood:(start|stop|keepalive):([a-z0-9][a-z0-9-]{0,30})$/.exec(id);
  return m ? { action: m[1] as ButtonAction, server: m[2]! } : undefined;
}

/**
 * Everything a status card shows of one server, from what the web's cards already compute
 * (serverJson, the estimates, the cost meter): see card-facts.ts. A follow-up edit takes the same
 * facts with the phase and address of the move it reports.
 */
export interface CardFacts {
  server: string;
  phase: Phase;
  desired: Desired;
  /** When the phase began (ms). */
  since: number;
  /** The address players use (serverJson's: only while booting or running). */
  address: string | null;
  /** Who is on, while running. */
  players: { online: number; max: number; names: readonly string[] } | null;
  /** When an idle server stops by itself (ms), while running. */
  stopsAt: number | null;
  /** What needs a person (serverJson's alert), or a failed server's last error. */
  alert: string | null;
  typicalStartMs: number | undefined;
  typicalStopMs: number | undefined;
  /** This month: dollars where servers cost money (DigitalOcean), hours on this machine. */
  cost: { usd: number; budgetUsd: number | undefined } | { hours: number; playerHours: number };
}

/** Discord's limits for an embed (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const LIMITS = { title: 256, fieldName: 256, fieldValue: 1024, fields: 25, total: 6000, content: 2000 } as const;

const COLOURS: Record<CardState['tone'], number> = { up: 0x2e9e5b, off: 0x7d8590, busy: 0xd89a1e, bad: 0xd0453b };

const STARTING = new Set<Phase>(['provisioning', 'booting']);
const STOPPING = new Set<Phase>(['stopping', 'powering_off', 'snapshotting', 'destroying']);

/** Discord's own clock markup: each reader's client shows "in 2 minutes" and counts on by itself. */
const relative = (ms: number) => `<t:${Math.round(ms / 1000)}:R>`;

/**
 * A server's status card: one embed (phase, address, players, ready in, stops at, this month's cost)
 * and the buttons `allowed` may press now, as on the web's card. Pure: the same facts make the same
 * card, so a follow-up edit that would change nothing can be told apart. Names and errors are plain
 * text (escaped), and every part is held to Discord's limits.
 */
export function statusCard(facts: CardFacts, allowed: { start: boolean; stop: boolean }, now: number): MessageData {
  const state = cardState({ desired: facts.desired, phase: facts.phase, alert: facts.alert });
  const fields: Embed['fields'] = [];
  const field = (name: string, value: string, inline = true) => fields.push({ name: cut(name, LIMITS.fieldName), value: cut(value, LIMITS.fieldValue) || '-', inline });
  // A code span cannot hold a backtick; an address has none, but it is never trusted to.
  if (facts.address) field('Address', `\`${facts.address.replace(/`/g, '')}\``);
  if (facts.phase === 'running' && facts.players) field('Players', playersText(facts.players));
  const eta = etaText(facts, now);
  if (eta) field(eta.name, eta.value);
  if (facts.phase === 'running' && facts.stopsAt !== null) field('Stops', `${relative(facts.stopsAt)} if nobody is on`);
  field('This month', costText(facts.cost));
  if (facts.alert) field(facts.phase === 'failed' ? 'Needs attention' : 'Warning', escapeDiscord(facts.alert), false);
  const embed: Embed = { title: cut(`${facts.server}: ${state.label}`, LIMITS.title), color: COLOURS[state.tone], fields: fields.slice(0, LIMITS.fields), timestamp: new Date(now).toISOString() };
  return { embeds: [embed], components: buttonRows(facts.server, state, allowed), allowed_mentions: { parse: [] } };
}

function playersText(p: NonNullable<CardFacts['players']>): string {
  if (p.names.length === 0) return p.max ? `nobody (room for ${p.max})` : 'nobody';
  const head = `${p.online} of ${p.max}: `;
  // Names are cut as a whole list, so the field stays within Discord's 1024 characters however many play.
  const names = p.names.map(escapeDiscord);
  let shown = '';
  for (const [i, name] of names.entries()) {
    const next = shown ? `${shown}, ${name}` : name;
    const rest = names.length - i - 1;
    if (head.length + next.length + (rest ? ` and ${rest} more`.length : 0) > LIMITS.fieldValue) return `${head}${shown} and ${names.length - i} more`;
    shown = next;
  }
  return head + shown;
}

function etaText(f: CardFacts, now: number): { name: string; value: string } | undefined {
  // Archived with a start wanted: the start has not begun (the phase is as old as the last stop), so it counts from now.
  const waking = f.phase === 'archived' && f.desired === 'up';
  const starting = STARTING.has(f.phase) || waking;
  const stopping = STOPPING.has(f.phase);
  if (!starting && !stopping) return undefined;
  const typical = starting ? f.typicalStartMs : f.typicalStopMs;
  const name = starting ? 'Ready' : 'Archived';
  const from = waking ? now : f.since;
  if (typical === undefined) return { name, value: waking ? 'no earlier run to estimate from' : `began ${relative(from)}; no earlier run to estimate from` };
  return { name, value: `${relative(from + typical)} (a usual ${starting ? 'start' : 'stop'} takes ${about(typical)})` };
}

function costText(cost: CardFacts['cost']): string {
  if ('hours' in cost) return `${cost.hours.toFixed(1)} h up, ${cost.playerHours.toFixed(1)} player-hours`;
  return cost.budgetUsd === undefined ? `${usd(cost.usd)} so far` : `${usd(cost.usd)} of the ${usd(cost.budgetUsd)} budget`;
}

/** The buttons the card's state offers and `allowed` may press; none is an empty list, which clears old buttons on an edit. */
function buttonRows(server: string, state: CardState, allowed: { start: boolean; stop: boolean }): ActionRow[] {
  const buttons: Button[] = [];
  if (allowed.start && state.start) buttons.push({ type: 2, style: 3, label: 'Start', custom_id: customId('start', server) });
  if (allowed.stop && state.stop) buttons.push({ type: 2, style: 4, label: 'Stop', custom_id: customId('stop', server) });
  if (allowed.start && state.keepAlive) buttons.push({ type: 2, style: 2, label: 'Keep alive', custom_id: customId('keepalive', server) });
  return buttons.length ? [{ type: 1, components: buttons }] : [];
}

/** Several servers' cards in one message (`/ood status` with more than one): Discord takes at most 10 embeds. */
export function statusCards(cards: readonly MessageData[]): MessageData {
  const embeds = cards.flatMap((c) => c.embeds ?? []).slice(0, 10);
  // Each server's buttons in its own row, at most Discord's 5 rows.
  const components = cards.flatMap((c) => c.components ?? []).slice(0, 5);
  return { embeds: fitTotal(embeds), components, allowed_mentions: { parse: [] } };
}

/** Discord refuses a message whose embeds hold more than 6000 characters in all: the last ones go first. */
function fitTotal(embeds: Embed[]): Embed[] {
  const size = (e: Embed) => e.title.length + (e.description?.length ?? 0) + e.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const kept: Embed[] = [];
  let total = 0;
  for (const e of embeds) {
    if (total + size(e) > LIMITS.total) break;
    kept.push(e);
    total += size(e);
  }
  return kept;
}

/** A plain answer only the asker sees: refusals, errors, "say which server". */
export function ephemeral(text: string): MessageData {
  return { content: cut(text, LIMITS.content), flags: EPHEMERAL, allowed_mentions: { parse: [] } };
}

/**
 * Someone OoD does not know: who they are to it (the identity the Discord login gives too), whom to
 * ask, and where to log in once an admin has added them or sent an invite link.
 */
export function notListed(identity: string, admins: readonly string[], origin: string): MessageData {
  const ask = admins.length === 0 ? 'Ask the person who runs this OoD' : `Ask ${admins.length === 1 ? 'its admin' : 'one of its admins'}, ${admins.map(escapeDiscord).join(', ')},`;
  return ephemeral(`You are \`${identity}\` to this OoD, and it does not know you yet. ${ask} to add \`${identity}\` or to send you an invite link; then log in at ${origin}/login with Discord.`);
}

/** A listed person without the permission: the words of the web's requirePerson. */
export function notAllowed(permission: 'start' | 'stop'): MessageData {
  return ephemeral(`You may not ${permission} servers; ask an admin to give you "${permission}".`);
}

/** Which of a card's buttons a person's permissions allow. */
export const allowedFor = (may: (p: 'start' | 'stop') => boolean) => ({ start: may('start'), stop: may('stop') });
