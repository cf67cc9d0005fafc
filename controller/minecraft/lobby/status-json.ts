import type { LobbyStatus } from './types.js';

/** Protocol strings (the status JSON, a login disconnect text) are at most 32767 characters. */
export const MAX_PROTOCOL_STRING = 32_767;

/**
 * The status response for a client that spoke `protocol`. Echoing its protocol makes every client version
 * list the lobby as compatible, so players see the motd instead of "incompatible version".
 * A favicon that would push the JSON over the string limit is dropped (`faviconDropped`) rather than
 * making the whole answer unreadable.
 */
export function statusJson(status: LobbyStatus, protocol: number): { json: string; faviconDropped: boolean } {
  const base = {
    version: { name: status.versionName, protocol },
    players: { max: playerCount(status.max), online: playerCount(status.online), sample: [] as never[] },
    description: { text: status.motd },
  };
  if (status.favicon) {
    const json = JSON.stringify({ ...base, favicon: status.favicon });
    if (json.length <= MAX_PROTOCOL_STRING) return { json, faviconDropped: false };
  }
  let json = JSON.stringify(base);
  if (json.length > MAX_PROTOCOL_STRING) {
    json = JSON.stringify({ ...base, version: { name: fit(status.versionName, 64), protocol }, description: { text: fit(status.motd, 1024) } });
  }
  return { json, faviconDropped: Boolean(status.favicon) };
}

/** The login Disconnect reason: a JSON text component, short enough for every client's string limit. */
export function disconnectJson(text: string): string {
  // JSON escapes can grow a character to 6 (\u0001), so 4096 characters always fit 32767.
  return JSON.stringify({ text: fit(text, 4096) });
}

/** A player count as a non-negative integer, whatever the handler returned. */
export function playerCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0;
}

/** Cuts `text` to `max` UTF-16 code units without splitting a surrogate pair. */
export function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max));
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
