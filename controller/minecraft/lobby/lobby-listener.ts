import { createServer, type Server, type Socket } from 'node:net';
import { messageOf, OodError } from '../../errors.js';
import { addressKey } from '../../net/address-key.js';
import { LobbyConnection, type ConnectionContext } from './connection.js';
import { ConnectionTable, type Held } from './connection-table.js';
import { processDescriptors, type DescriptorBudget } from './descriptor-budget.js';
import { proxyConnection, type ProxiedPair } from './proxy.js';
import { proxyV2Header } from './proxy-header.js';
import { SessionServer } from './session-server.js';
import type { LobbyHandlers, LobbyLog, LobbyOptions, LobbyStats } from './types.js';

export type { LobbyHandlers, LobbyLog, LobbyOptions, LobbyStats, LobbyStatus } from './types.js';

/** The lobby could not bind its address. `code` is the system error's (EADDRINUSE, EACCES, …). */
export class LobbyListenError extends OodError {
  readonly retryable = true;
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULTS = { maxConnectionsPerAddress: 8, handshakeTimeoutMs: 5_000, connectionTimeoutMs: 10_000, maxPacketBytes: 2_048, maxConnections: 1_024, keepAliveMs: 10_000, maxHoldMs: 600_000 };

/** Online logins (handlers that `authenticate`): Mojang's session server, asked with a time-out well inside connectionTimeoutMs, at most 32 at once. */
const MOJANG_SESSION_SERVER = 'https://sessionserver.mojang.com';
const SESSION_TIMEOUT_MS = 4_000;
const MAX_SESSION_CHECKS = 32;

const silentLog: LobbyLog = { debug() {}, info() {}, warn() {} };

/**
 * A Minecraft listener written against the protocol's stable parts only (handshake, status, login
 * start/disconnect, legacy ping), so it answers every client version without protocol data packages.
 * It shows a status and turns logins away with a message while the game sleeps, or, when `route()`
 * names a target, forwards connections to the running game unchanged.
 */
export class LobbyListener {
  private server: Server | undefined;
  /** Lobby connections by socket; held ones (the waiting room) outlive release() and close(). */
  private readonly lobby = new Map<Socket, LobbyConnection>();
  private readonly forwarded = new Set<ProxiedPair>();
  /** Each lobby connection's entry in the table, for a shared listener's hand-over to the proxy. */
  private readonly lobbyHeld = new WeakMap<Socket, Held>();
  /** Every open connection, lobby and proxied, per address: the caps and who is dropped when full. */
  private readonly table: ConnectionTable;
  private readonly counters: LobbyStats = { accepted: 0, statusAnswered: 0, logins: 0, legacy: 0, refused: 0, dropped: 0, closedOnError: 0, held: 0, transferred: 0 };
  private readonly limits: typeof DEFAULTS;
  private readonly ctx: ConnectionContext;
  private readonly descriptors: DescriptorBudget;

  constructor(
    private readonly handlers: LobbyHandlers,
    private readonly options: LobbyOptions,
    private readonly log: LobbyLog = silentLog,
  ) {
    const limits = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const value = options[key];
      if (value === undefined) continue;
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`Lobby option ${key} must be a positive integer, got ${value}`);
      limits[key] = value;
    }
    this.limits = limits;
    this.descriptors = options.descriptors ?? processDescriptors;
    this.table = new ConnectionTable(limits.maxConnectionsPerAddress, limits.maxConnections, this.descriptors);
    const sessions = new SessionServer(options.sessionServer ?? MOJANG_SESSION_SERVER, options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS, options.maxSessionChecks ?? MAX_SESSION_CHECKS);
    this.ctx = {
      handlers,
      limits,
      sessions,
      log,
      stats: this.counters,
      ...(options.resolve ? { resolve: options.resolve, forward: (socket, replay, target, proxyProtocol) => this.forwardAfterHandshake(socket, replay, target, proxyProtocol) } : {}),
    };
  }

  /** Binds host:port. Rejects with LobbyListenError (its `code` is EADDRINUSE etc.) if it cannot. */
  listen(): Promise<void> {
    if (this.server) return Promise.reject(new LobbyListenError(`Lobby is already listening on ${this.where()}`, undefined));
    // pauseOnConnect: route() decides before a byte is read. allowHalfOpen: a client that sends its
    // request and closes its side still gets the answer.
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      const onListenError = (err: NodeJS.ErrnoException) => {
        this.server = undefined;
        reject(new LobbyListenError(`Lobby could not listen on ${this.where()}: ${err.message}`, err.code, { cause: err }));
      };
      server.once('error', onListenError);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', onListenError);
        this.descriptors.join(this.table); // a listening lobby is guaranteed its share of the budget
        // After binding, errors are about single accepts (EMFILE…): log them, keep listening.
        server.on('error', (err) => this.log.warn({ err: err.message }, 'Lobby listener reported an error'));
        this.log.info({ address: this.address }, 'Lobby started listening');
        resolve();
      });
    });
  }

  /**
   * Stops listening (the port is free when this resolves) and destroys open lobby connections but held
   * ones (the waiting room: their holder sends them on). Forwarded connections are left running: they
   * are players in the game. closeAll() ends both too.
   */
  async close(): Promise<void> {
    await this.stop(false);
  }

  private async stop(withHeld: boolean): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.descriptors.leave(this.table);
    // Not awaiting the server's 'close': Node emits it only after forwarded connections end too.
    if (server) server.close();
    await Promise.all(
      this.lobbySockets(withHeld).map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.once('close', () => resolve());
            socket.destroy();
          }),
      ),
    );
  }

  /**
   * Lets go of the port now, for a game that binds it next (wake mode's hand-over): the listening
   * socket closes at once, while lobby connections already accepted (a status answer or a kick on
   * its way) get up to `graceMs` to finish before they are destroyed. They do not keep the game from
   * binding: an accepted socket is no listener, and both sides set SO_REUSEADDR (Node always does).
   */
  release(graceMs: number): void {
    const server = this.server;
    this.server = undefined;
    this.descriptors.leave(this.table);
    if (server) server.close();
    const lingering = this.lobbySockets(false);
    // Held clients are spared, also those held during the grace: the game's answer transfers them.
    if (lingering.length > 0) setTimeout(() => lingering.forEach((socket) => this.lobby.get(socket)?.holding || socket.destroy()), graceMs).unref();
  }

  /** close(), and ends held and forwarded connections as well. */
  async closeAll(): Promise<void> {
    for (const pair of this.forwarded) pair.destroy();
    await this.stop(true);
  }

  private lobbySockets(withHeld: boolean): Socket[] {
    return [...this.lobby].filter(([, connection]) => withHeld || !connection.holding).map(([socket]) => socket);
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  get address(): { host: string; port: number } | null {
    const bound = this.server?.address();
    return bound && typeof bound === 'object' ? { host: bound.address, port: bound.port } : null;
  }

  /** Open forwarded connections (for counting players when other probes fail). */
  get proxied(): number {
    return this.forwarded.size;
  }

  /** Open lobby connections (not forwarded ones), held ones included. */
  get connections(): number {
    return this.lobby.size;
  }

  stats(): LobbyStats {
    return { ...this.counters };
  }

  private accept(socket: Socket): void {
    const address = plainAddress(socket.remoteAddress);
    if (!address) return void socket.destroy(); // already gone
    const key = addressKey(address);
    // A shared listener (resolve) knows the server only from the handshake: it forwards after it.
    const target = this.options.resolve ? null : this.route();
    const admission = this.table.admit(key, target ? 2 : 1);
    if (!admission.ok) {
      this.counters.refused++;
      this.log.debug({ address, held: this.table.heldBy(key), open: this.table.size, reason: admission.reason }, 'Refused a lobby connection over the connection cap');
      return void socket.destroy();
    }
    if (admission.dropped) {
      this.counters.dropped++;
      this.log.debug({ address, from: admission.dropped.key, open: this.table.size }, 'Dropped the idlest connection of the address holding the most to make room');
    }
    this.counters.accepted++;
    if (target) return this.forward(socket, target, key);

    const connection = new LobbyConnection(socket, address, this.ctx);
    this.lobby.set(socket, connection);
    const held: Held = { key, cost: 1, since: Date.now(), lastActive: () => connection.lastActive, evictable: () => connection.evictable, drop: () => socket.destroy() };
    this.table.add(held);
    if (this.options.resolve) this.lobbyHeld.set(socket, held);
    socket.once('close', () => {
      this.lobby.delete(socket);
      this.table.remove(held);
    });
  }

  /** route() failing must not cost the connection: it is then answered as the lobby. */
  private route(): { host: string; port: number } | null {
    if (!this.handlers.route) return null;
    try {
      return this.handlers.route();
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'Lobby route() failed; answered the connection as the lobby');
      return null;
    }
  }

  /**
   * A shared listener's connection whose handshake named a proxy-mode server that is up: it stops being
   * a lobby connection (one descriptor) and is admitted again as a forwarded pair (two), under the
   * same caps as any new forwarded connection.
   */
  private forwardAfterHandshake(socket: Socket, replay: Buffer, target: { host: string; port: number }, proxyProtocol: boolean): void {
    const lobbyHeld = this.lobbyHeld.get(socket);
    this.lobby.delete(socket);
    if (!lobbyHeld) return void socket.destroy(); // dropped for a newcomer meanwhile
    this.table.remove(lobbyHeld);
    const admission = this.table.admit(lobbyHeld.key, 2);
    if (!admission.ok) {
      this.counters.refused++;
      this.log.debug({ key: lobbyHeld.key, open: this.table.size, reason: admission.reason }, 'Refused to forward a connection over the connection cap');
      return void socket.destroy();
    }
    if (admission.dropped) this.counters.dropped++;
    this.forward(socket, target, lobbyHeld.key, { replay, proxyProtocol });
  }

  private forward(socket: Socket, target: { host: string; port: number }, key: string, after?: { replay: Buffer; proxyProtocol: boolean }): void {
    const header = (after?.proxyProtocol ?? this.options.proxyProtocol) ? this.proxyHeader(socket) : undefined;
    const pair = proxyConnection(
      socket,
      target,
      this.limits.handshakeTimeoutMs,
      this.log,
      (failed) => {
        this.forwarded.delete(pair);
        this.table.remove(held); // never called before the next lines have run: it follows a socket's close
        if (failed) this.counters.closedOnError++;
      },
      header,
      after?.replay,
    );
    const held: Held = { key, cost: 2, since: Date.now(), lastActive: () => pair.lastActive(), evictable: () => !pair.established(), drop: () => pair.destroy() };
    this.forwarded.add(pair);
    this.table.add(held);
  }

  private proxyHeader(socket: Socket): Buffer | undefined {
    const { remoteAddress, remotePort, localAddress, localPort } = socket;
    if (!remoteAddress || !remotePort || !localAddress || !localPort) return undefined; // already gone: it fails at connect
    return proxyV2Header({ address: remoteAddress, port: remotePort }, { address: localAddress, port: localPort });
  }

  private where(): string {
    return `${this.options.host}:${this.options.port}`;
  }
}

/** The IP as people write it: IPv4 clients of a dual-stack socket arrive as ::ffff:a.b.c.d. */
function plainAddress(remote: string | undefined): string | undefined {
  return remote?.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
