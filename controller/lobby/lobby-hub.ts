import type { HostnameRoutes } from '../config/hostname-routes.js';
import { hostnameRoutes } from '../config/hostname-routes.js';
import type { Config } from '../config/schema.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { LobbyListener } from '../minecraft/lobby/lobby-listener.js';
import type { LobbyHandlers, LobbyStats } from '../minecraft/lobby/types.js';
import { unknownNameHandlers } from './unknown-name.js';

/** How soon a failed listen is tried again (the port may be held by a program that is exiting). */
const RETRY_MS = 2_000;

export interface LobbyHubOptions {
  listen: { host: string; port: number };
  routes: HostnameRoutes;
  /** Each served server's handlers (its LobbyService's), by server id. */
  servers: ReadonlyMap<string, LobbyHandlers>;
  /** What the list of names shows as the version, when no server is the default. */
  versionName: string;
  /** Top-level lobby.sessionServer: where servers that authenticate joins ask hasJoined. */
  sessionServer?: string;
  log: Logger;
}

/**
 * The shared lobby: one Minecraft listener (top-level `lobby.listen`) for every server reached by name.
 * Each handshake's routing name picks the server (a Map lookup: status pings stay as cheap as on a
 * server's own port); a name no server claims gets the default server, or a list of the names one may
 * join, which never wakes anything. Legacy (pre-1.7) pings name no host, so they get the same. Each
 * server's handlers do the rest as on its own port: status, wakes, the waiting room, and the proxy,
 * which here forwards after the handshake (the listener replays it to the game).
 */
export class LobbyHub {
  private readonly listener: LobbyListener;
  private readonly byName: Map<string, LobbyHandlers>;
  private readonly fallback: LobbyHandlers;
  private retry: NodeJS.Timeout | undefined;
  private lastWarning = '';
  private closed = false;

  constructor(private readonly options: LobbyHubOptions) {
    const { routes, servers } = options;
    const handlersOf = (id: string) => {
      const handlers = servers.get(id);
      if (!handlers) throw new Error(`The shared lobby routes to server ${id}, which has no lobby`);
      return handlers;
    };
    this.byName = new Map([...routes.names].map(([name, id]) => [name, handlersOf(id)]));
    this.fallback = routes.defaultId ? handlersOf(routes.defaultId) : unknownNameHandlers(firstNames(routes), options.versionName);
    this.listener = new LobbyListener(this.fallback, { host: options.listen.host, port: options.listen.port, resolve: (name) => this.resolve(name), ...(options.sessionServer ? { sessionServer: options.sessionServer } : {}) }, options.log);
  }

  /** The handlers for a routing name (lower-case, no trailing dot or FML suffix: server-address.ts). */
  resolve(name: string): LobbyHandlers {
    return this.byName.get(name) ?? this.fallback;
  }

  /** Listens, and keeps trying every 2 s until it can (said once per reason). */
  start(): void {
    if (this.closed || this.listener.listening || this.retry) return;
    this.listener.listen().then(
      () => {
        this.lastWarning = '';
        this.options.log.info({ address: this.listener.address, names: this.byName.size }, 'The shared lobby answers for every server by name');
      },
      (err: unknown) => {
        const message = messageOf(err);
        if (message !== this.lastWarning) this.options.log.warn({ err: message }, 'The shared lobby could not listen; trying again');
        this.lastWarning = message;
        if (this.closed) return;
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.start();
        }, RETRY_MS);
        this.retry.unref();
      },
    );
  }

  /** Stops listening and ends every connection, held and forwarded ones too. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.listener.closeAll();
  }

  get listening(): boolean {
    return this.listener.listening;
  }

  get address(): { host: string; port: number } | null {
    return this.listener.address;
  }

  /** Open connections the shared lobby answers itself (not forwarded ones). */
  get connections(): number {
    return this.listener.connections;
  }

  /** Open connections forwarded to games through the shared lobby. */
  get proxied(): number {
    return this.listener.proxied;
  }

  stats(): LobbyStats {
    return this.listener.stats();
  }
}

/** Each server's first name, in config order: what the list of servers one may join shows. */
function firstNames(routes: HostnameRoutes): string[] {
  const first = new Map<string, string>();
  for (const [name, id] of routes.names) if (!first.has(id)) first.set(id, name);
  return [...first.values()];
}

/**
 * The shared lobby of `config`, when `lobby.listen` is set;
 * `lobbies` holds the handlers of every server whose lobby is not off.
 */
export function openLobbyHub(config: Pick<Config, 'lobby' | 'servers'>, lobbies: ReadonlyMap<string, LobbyHandlers>, log: Logger): LobbyHub | undefined {
  const { listen } = config.lobby;
  if (!listen) return undefined;
  const routes = hostnameRoutes(config);
  // Listening with nobody served still answers: "no server is reached through this address yet".
  const versionName = config.servers.find((s) => s.id === routes.served[0])?.lobby.versionName ?? 'OoD';
  return new LobbyHub({ listen, routes, servers: lobbies, versionName, sessionServer: config.lobby.sessionServer, log });
}
