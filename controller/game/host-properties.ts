/**
 * `server.properties` keys OoD sets on every host it starts, whichever the driver, over what the
 * world's own file says.
 *
 * `accepts-transfers=true` (vanilla 1.20.5+; the bundled game reads it too, see bundled/transfers.ts):
 * the lobby's waiting room holds a player while the game starts, then moves them here with a Transfer
 * packet, and a game without it turns every transferred player away ("Server does not accept
 * transfers"). A Transfer only ever comes from a server the player was already on, and the game still
 * checks the player as on any join (online mode, whitelist), so it opens nothing the port did not.
 */
export const HOST_PROPERTIES: Readonly<Record<string, string>> = { 'accepts-transfers': 'true' };
