/**
 * What each notification says, as pure functions of the event: the payloads are built from the event
 * alone, so nothing the controller knows besides it (tokens, URLs, passwords) can end up in a message.
 */

export type NotifyKind = 'starting' | 'up' | 'empty' | 'archived' | 'failed';

export type NotifyEvent =
  | { kind: 'starting'; server: string; by: string; etaMs: number | undefined; at: number }
  /** `address` is null for a server whose driver gives no address (the message then names none). */
  | { kind: 'up'; server: string; address: string | null; at: number }
  | { kind: 'empty'; server: string; stopsAt: number | null; at: number }
  | { kind: 'archived'; server: string; snapshot: string | null; at: number }
  | { kind: 'failed'; server: string; reason: string; at: number };

/** Where a notification goes; each has its URL from the environment. */
export type Target = 'discord' | 'webhook';

export const TARGETS: readonly Target[] = ['discord', 'webhook'];

/** A failure's reason, as long as people will read in a chat line. */
export const REASON_MAX = 300;

/** The same event always has the same key, so enqueueing it twice sends it once per target. */
export function eventKey(e: NotifyEvent): string {
  return `${e.server}:${e.kind}:${e.at}`;
}

/** "70 s", "5 min", "3 h": seconds under two minutes, minutes under two hours (as the lobby says it). */
export function roughly(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

export function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The one line people read, in plain words (a display name with a line break in it stays one line). */
export function messageText(e: NotifyEvent): string {
  return cut(sentence(e), TEXT_MAX);
}

/** Discord's limit for a message's content, and plenty for any of these. */
const TEXT_MAX = 2000;

function sentence(e: NotifyEvent): string {
  switch (e.kind) {
    case 'starting':
      return e.etaMs === undefined ? `${e.by} is starting ${e.server}` : `${e.by} is starting ${e.server} — ready in about ${roughly(e.etaMs)}`;
    case 'up':
      return e.address ? `${e.server} is up at ${e.address}` : `${e.server} is up`;
    case 'empty':
      return e.stopsAt === null ? `${e.server} is empty` : `${e.server} is empty — archiving in ${roughly(e.stopsAt - e.at)}`;
    case 'archived':
      return e.snapshot ? `${e.server} is archived as ${e.snapshot}` : `${e.server} is archived`;
    case 'failed':
      return `${e.server} failed: ${cut(e.reason, REASON_MAX)}`;
  }
}

/**
 * Discord's markdown would read `Alex_1`'s underscore or a `*` in an error as formatting, and `<@…>`
 * as a mention chip; a line starting `#` or `-` as a heading or a list. A backslash makes such a
 * character literal (https://discord.com/developers/docs/reference#message-formatting). The text is
 * one line (see `cut`), so only its start can open a block. Discord also makes `https://…` (in a
 * name like `https://evil.example/x`) a clickable link: escaping the scheme's colon (`https\://`)
 * keeps the text as written but leaves no `scheme://` for the link finder to match.
 */
export function escapeDiscord(text: string): string {
  return text
    .replace(/[\\*_~`|<>[\]]/g, (c) => `\\${c}`)
    .replace(/^([#-])/, '\\$1')
    .replace(/([a-z][a-z0-9+.-]*):(?=\/\/)/gi, '$1\\:');
}

/** Discord's message flag SUPPRESS_EMBEDS: no preview card for anything in the text (https://discord.com/developers/docs/resources/message#message-object-message-flags). */
const SUPPRESS_EMBEDS = 1 << 2;

/**
 * Discord's "execute webhook" body: names and reasons in it are plain text. `allowed_mentions.parse: []`
 * keeps an `@everyone` in a player's name or an error from pinging anyone, and `flags` asks for no
 * link previews (https://discord.com/developers/docs/resources/webhook#execute-webhook).
 */
export function discordPayload(e: NotifyEvent): { content: string; allowed_mentions: { parse: never[] }; flags: number; username: string } {
  return { content: cut(escapeDiscord(messageText(e)), TEXT_MAX), allowed_mentions: { parse: [] }, flags: SUPPRESS_EMBEDS, username: 'OoD' };
}

/** The generic webhook's body: the text, and each field for programs that would rather not parse it. */
export function webhookPayload(e: NotifyEvent): Record<string, string | number | null> {
  const base = { event: e.kind, server: e.server, text: messageText(e), at: new Date(e.at).toISOString() };
  switch (e.kind) {
    case 'starting':
      return { ...base, by: e.by, etaSeconds: e.etaMs === undefined ? null : Math.round(e.etaMs / 1000) };
    case 'up':
      return { ...base, address: e.address };
    case 'empty':
      return { ...base, stopsAt: e.stopsAt === null ? null : new Date(e.stopsAt).toISOString() };
    case 'archived':
      return { ...base, snapshot: e.snapshot };
    case 'failed':
      return { ...base, reason: cut(e.reason, REASON_MAX) };
  }
}

/** The JSON body for `target`, as stored in the outbox. */
export function payloadFor(target: Target, e: NotifyEvent): string {
  return JSON.stringify(target === 'discord' ? discordPayload(e) : webhookPayload(e));
}
