import type { DescriptorBudget } from './descriptor-budget.js';

/** What a status ping shows. `favicon` is a data URL of a 64×64 PNG: `data:image/png;base64,…`. */
export interface LobbyStatus {
  motd: string;
  versionName: string;
  online: number;
  max: number;
  favicon?: string;
}

/** An account the session server vouched for (lobby.authenticate): Mojang's `hasJoined` answer. */
export interface ProvenAccount {
  /** The account's UUID, 32 hex digits without dashes, as the session server sends it. */
  id: string;
  name: string;
  properties: { name: string; value: string; signature?: string }[];
}

/** Where a held client is sent, or why it is let go. */
export type HoldOutcome = { transfer: { host: string; port: number } } | { kick: string };

/**
 * A login the lobby keeps in the waiting room (protocol ≥ 766) instead of turning it away: the
 * connection completes the login, holds the client in the configuration state with keep-alives and,
 * when `outcome` settles, sends Transfer or a disconnect with the reason.
 */
export interface HeldLogin {
  /** What the client is shown while it waits, where its version can show text ("Starting survival — ready in about 40 s"). */
  text(): string;
  /** Settles once: the server answers (transfer), failed, or the hold ran out (kick). Never rejects. */
  readonly outcome: Promise<HoldOutcome>;
  /** The client went away (or was dropped) before the outcome: the holder forgets it. */
  abandon(): void;
}

/** A login's answer: plain text shown as the disconnect reason, or a hold (waiting room). */
export type LoginAnswer = string | { hold: HeldLogin };

export interface LoginAttempt {
  name: string;
  /** An IP, IPv4-mapped IPv6 unwrapped. */
  address: string;
  /** The client's protocol number. */
  protocol: number;
  /** Set when the session server proved the account (the handlers asked for `authenticate`). */
  proven?: ProvenAccount;
  /** Whether this connection can be held (its protocol is in the waiting room's table); if not, a hold is answered as a kick with `text()`. */
  holdable: boolean;
}

export interface LobbyHandlers {
  /** What a status ping shows now. Never wakes anything. */
  status(): LobbyStatus;
  /**
   * A login attempt: returns the plain text shown to the player as the disconnect reason, or a hold
   * (the waiting room) when `attempt.holdable`.
   */
  login(attempt: LoginAttempt): Promise<LoginAnswer> | LoginAnswer;
  /** Do the online-mode login (encryption and the session server's `hasJoined`) before `login()`. */
  authenticate?: boolean;
  /**
   * Proxy mode: where to forward a new connection right now, or null to answer it as the lobby.
   * Called once per accepted connection, before any byte is read; on a shared listener (`resolve`),
   * once its handshake has named this server.
   */
  route?(): { host: string; port: number } | null;
  /** The game behind route() expects a PROXY protocol v2 header (on a shared listener each server says; its own port follows LobbyOptions.proxyProtocol). */
  proxyProtocol?: boolean;
}

/**
 * Which server a handshake is for, by the server address it names (already lower-cased, a trailing
 * dot and a Forge/FML suffix after a NUL removed): hostname routing on a shared listener. Returns the
 * handlers of the server, or of the "no such server" answer. Without it every handshake gets the
 * listener's own handlers.
 */
export type LobbyResolver = (serverAddress: string) => LobbyHandlers;

export interface LobbyOptions {
  host: string;
  port: number;
  /** Hostname routing: which server's handlers answer each handshake (a shared listener). */
  resolve?: LobbyResolver;
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
  /** A held client (the waiting room) gets a keep-alive this often; 3 unanswered intervals close it. Default 10000 ms. */
  keepAliveMs?: number;
  /** The longest the lobby holds a client, whatever the holder says; then it is disconnected with a reason. Default 600000 ms (10 min). */
  maxHoldMs?: number;
  /**
   * Concurrent connections in all, lobby and proxied alike. When full, a newcomer holding fewer than
   * the address holding the most replaces that address's idlest connection; else it is destroyed.
   * Default 1024.
   */
  maxConnections?: number;
  /** Base URL of the session server that proves accounts (handlers that `authenticate`). Default https://sessionserver.mojang.com. */
  sessionServer?: string;
  /** How long an online login waits for the session server's hasJoined. Default 4000 ms (inside connectionTimeoutMs). */
  sessionTimeoutMs?: number;
  /** Session-server questions in flight at once on this listener; a join past that is told to try again. Default 32. */
  maxSessionChecks?: number;
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
  /** Clients in the waiting room now (Login Success sent, no Transfer or disconnect yet). */
  held: number;
  /** Held clients sent on with a Transfer. */
  transferred: number;
}
