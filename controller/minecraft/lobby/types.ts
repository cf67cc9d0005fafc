import type { DescriptorBudget } from './descriptor-budget.js';

/** What a status ping shows. `favicon` is a data URL of a 64×64 PNG: `data:image/png;base64,…`. */
export interface LobbyStatus {
  motd: string;
  versionName: string;
  online: number;
  max: number;
  favicon?: string;
}

export interface LobbyHandlers {
  /** What a status ping shows now. Never wakes anything. */
  status(): LobbyStatus;
  /**
   * A login attempt by `name` from `address` (an IP, IPv4-mapped IPv6 unwrapped): returns the plain text
   * shown to the player as the disconnect reason. `protocol` is the client's protocol number.
   */
  login(name: string, address: string, protocol: number): Promise<string> | string;
  /**
   * Proxy mode: where to forward a new connection right now, or null to answer it as the lobby.
   * Called once per accepted connection, before any byte is read.
   */
  route?(): { host: string; port: number } | null;
}

export interface LobbyOptions {
  host: string;
  port: number;
  /**
   * Concurrent connections from one IPv4 address or IPv6 /64, lobby and proxied alike; more are
   * destroyed at once. Default 8.
   */
  maxConnectionsPerAddress?: number;
  /** A client must finish its handshake and first request within this. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** Longest life of a lobby connection, answer and goodbye included. Default 10000 ms. */
  connectionTimeoutMs?: number;
  /** Largest packet a client may send to the lobby. Default 2048 bytes. */
  maxPacketBytes?: number;
  /**
   * Concurrent connections in all, lobby and proxied alike. When full, a newcomer holding fewer than
   * the address holding the most replaces that address's idlest connection; else it is destroyed.
   * Default 1024.
   */
  maxConnections?: number;
  /** Send the PROXY protocol v2 header to the game before a proxied client's bytes. Default false. */
  proxyProtocol?: boolean;
  /** The descriptors all lobbies of the process share (tests inject a small one). Default: sized from RLIMIT_NOFILE. */
  descriptors?: DescriptorBudget;
}

/** pino's Logger fits this; so does a stub in tests. */
export interface LobbyLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LobbyStats {
  /** Connections accepted (lobby and proxied), refused ones not included. */
  accepted: number;
  statusAnswered: number;
  /** Calls of `login()`. */
  logins: number;
  legacy: number;
  /** Destroyed at once: over the per-address or total cap. */
  refused: number;
  /** Open connections dropped to make room for an address that held fewer (the global cap was full). */
  dropped: number;
  /** Closed for bad input, a missed deadline, a failed handler, or an upstream that could not be reached. */
  closedOnError: number;
}
