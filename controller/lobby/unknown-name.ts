import type { LobbyHandlers, LobbyStatus } from '../minecraft/lobby/types.js';

/**
 * What the shared lobby answers for a name no server claims, when no server is the default: the names
 * one may join, in the server list and as the reason of a disconnect. It never wakes anything. One
 * status object for every such ping, so its encoded answer is made once.
 */
export function unknownNameHandlers(names: readonly string[], versionName: string): LobbyHandlers {
  const choices = names.length > 0 ? `join ${names.join(', ')}` : 'no server is reached through this address yet';
  const status: LobbyStatus = { motd: `No server by that name here: ${choices}`, versionName, online: 0, max: 0 };
  const refusal = names.length > 0 ? `This address names no server here. Join one of: ${names.join(', ')}` : 'No server is reached through this address yet; ask its admin';
  return { status: () => status, login: () => refusal };
}
