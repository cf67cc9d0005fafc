import type { Config, ServerConfig } from './schema.js';

type RoutedServer = Pick<ServerConfig, 'id' | 'lobby'>;
type SharedLobbyConfig = { lobby: { listen?: { host: string; port: number } | undefined } };

/**
 * Which server each host name reaches on the shared lobby (top-level `lobby.listen`): the one decision
 * the lobby's resolver, `ood config check`'s table and the own-port rule all read, so none of them can
 * disagree about who is served where.
 */
export interface HostnameRoutes {
  /** Routing name (lower-case, no trailing dot) → server id. */
  names: Map<string, string>;
  /** The server a name no server claims reaches, if one is the default. */
  defaultId: string | undefined;
  /** Servers reached through the shared lobby, in config order. */
  served: string[];
}

/** Whether the shared lobby serves `server`: it has a lobby and names, or is the default, and the shared lobby is configured. */
export function reachedThroughSharedLobby(config: SharedLobbyConfig, server: RoutedServer): boolean {
  return config.lobby.listen !== undefined && server.lobby.mode !== 'off' && (server.lobby.hostnames.length > 0 || server.lobby.default);
}

/**
 * Whether the server's own lobby listens on its game port on this machine: `lobby.ownPort`, and unset,
 * yes unless the shared lobby serves it (then its game port is its game's alone).
 */
export function listensOnOwnPort(config: SharedLobbyConfig, server: RoutedServer): boolean {
  if (server.lobby.mode === 'off') return false;
  return server.lobby.ownPort ?? !reachedThroughSharedLobby(config, server);
}

/**
 * The routing table. The schema refuses a name claimed twice and a second default; should a table be
 * built from an unchecked config anyway, the first server in config order keeps the name.
 */
export function hostnameRoutes(config: SharedLobbyConfig & Pick<Config, 'servers'>): HostnameRoutes {
  const names = new Map<string, string>();
  let defaultId: string | undefined;
  const served: string[] = [];
  for (const server of config.servers) {
    if (!reachedThroughSharedLobby(config, server)) continue;
    served.push(server.id);
    for (const name of server.lobby.hostnames) if (!names.has(name)) names.set(name, server.id);
    if (server.lobby.default) defaultId ??= server.id;
  }
  return { names, defaultId, served };
}
