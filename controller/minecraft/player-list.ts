import type { Players } from '../reconcile/types.js';

// Vanilla 1.13+: "There are 1 of a max of 20 players online: ann"; older: "There are 1/20 players online:ann".
const MODERN = /There are (\d+) of a max(?: of)? (\d+) players online:(.*)$/s;
const LEGACY = /There are (\d+)\/(\d+) players online:(.*)$/s;
/** How vanilla and the bundled game join the names. */
const SEPARATOR = ', ';

/** RCON `list`'s answer: always the count it states; the names only when they can be told apart. */
export interface PlayerList {
  players: Players;
  /**
   * The names as the game wrote them, when they do not split into exactly `online` names (an
   * offline-mode name may hold ", "); `players.names` is then empty. Null when the names are known.
   */
  unsplit: string | null;
}

/**
 * Reads the answer to RCON `list`; undefined when it is in neither wording. The count is the one the
 * game states: `Ann,Bob,Cy,Dee` alone online is one player named so, never four.
 */
export function parsePlayerList(reply: string): PlayerList | undefined {
  const text = reply.replace(/§./g, '').trim();
  const match = MODERN.exec(text) ?? LEGACY.exec(text);
  if (!match) return undefined;
  const online = Number(match[1]);
  const players = { online, max: Number(match[2]) };
  if (online === 0) return { players: { ...players, names: [] }, unsplit: null };
  const written = match[3]!.replace(/^\s+/, '');
  // One player: the whole text is the name, whatever it holds. More: each ", " must be a separator.
  const parts = online === 1 ? [written] : written.split(SEPARATOR);
  if (parts.length === online && parts.every((p) => p.length > 0)) return { players: { ...players, names: parts }, unsplit: null };
  return { players: { ...players, names: [] }, unsplit: written };
}

/**
 * The players of a list whose names could not be told apart, named by a status ping's sample when
 * the sample names every one of them and spells the same text (each name in it, the lengths adding
 * up); otherwise the count alone. A sample is often partial (vanilla shows 12) or made up (servers
 * that hide who plays), so anything less is not taken.
 */
export function namesFromSample(list: PlayerList, sample: readonly string[]): Players {
  const { players, unsplit } = list;
  if (unsplit === null) return players;
  const fits =
    sample.length === players.online &&
    sample.every((name) => name.length > 0 && unsplit.includes(name)) &&
    sample.reduce((sum, name) => sum + name.length, 0) + SEPARATOR.length * (sample.length - 1) === unsplit.length;
  return fits ? { ...players, names: [...sample] } : players;
}
