import { createServer, type Server, type Socket } from 'node:net';
import { messageOf, OodError } from '../../errors.js';
import { LobbyConnection, type ConnectionContext } from './connection.js';
import { proxyConnection, type ProxiedPair } from './proxy.js';
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

const DEFAULTS = { maxConnectionsPerAddress: 8, handshakeTimeoutMs: 5_000, connectionTimeoutMs: 10_000, maxPacketBytes: 2_048, maxConnections: 1_024 };

const silentLog: LobbyLog = { debug() {}, info() {}, warn() {} };

/**
 * A Minecraft listener written against the protocol's stable parts only (handshake, status, login
 * start/disconnect, legacy ping), so it answers every client version without protocol data packages.
 * It shows a status and turns logins away with a message while the game sleeps, or, when `route()`
 * names a target, forwards connections to the running game unchanged.
 */
export class LobbyListener {
  private server: Server | undefined;
  private readonly lobby = new Set<Socket>();
  private readonly forwarded = new Set<ProxiedPair>();
  /** Open lobby connections per IP; an entry is removed when its count drops to 0. */
  private readonly perAddress = new Map<string, number>();
  private readonly counters: LobbyStats = { accepted: 0, statusAnswered: 0, logins: 0, legacy: 0, refused: 0, closedOnError: 0 };
  private readonly limits: typeof DEFAULTS;
  private readonly ctx: ConnectionContext;

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
    this.ctx = { handlers, limits, log, stats: this.counters };
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
        // After binding, errors are about single accepts (EMFILE…): log them, keep listening.
        server.on('error', (err) => this.log.warn({ err: err.message }, 'Lobby listener reported an error'));
        this.log.info({ address: this.address }, 'Lobby started listening');
        resolve();
      });
    });
  }

  /**
   * Stops listening (the port is free when this resolves) and destroys open lobby connections.
   * Forwarded connections are left running: they are players in the game. closeAll() ends them too.
   */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // Not awaiting the server's 'close': Node emits it only after forwarded connections end too.
    if (server) server.close();
    await Promise.all(
      [...this.lobby].map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.once('close', () => resolve());
            socket.destroy();
          }),
      ),
    );
  }

  /** close(), and ends forwarded connections as well. */
  async closeAll(): Promise<void> {
    for (const pair of this.forwarded) pair.destroy();
    await this.close();
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

  /** Open lobby connections (not forwarded ones). */
  get connections(): number {
    return this.lobby.size;
  }

  stats(): LobbyStats {
    return { ...this.counters };
  }

  private accept(socket: Socket): void {
    const address = plainAddress(socket.remoteAddress);
    if (!address) return void socket.destroy(); // already gone
    const target = this.route();
    if (target) return this.forward(socket, target);

    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress || this.lobby.size >= this.limits.maxConnections) {
      this.counters.refused++;
      this.log.debug({ address, fromAddress, open: this.lobby.size }, 'Refused a lobby connection over the connection cap');
      return void socket.destroy();
    }
    this.counters.accepted++;
    this.perAddress.set(address, fromAddress + 1);
    this.lobby.add(socket);
    socket.once('close', () => {
      this.lobby.delete(socket);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    new LobbyConnection(socket, address, this.ctx);
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

  private forward(socket: Socket, target: { host: string; port: number }): void {
    this.counters.accepted++;
    const pair = proxyConnection(socket, target, this.limits.handshakeTimeoutMs, this.log, (failed) => {
      this.forwarded.delete(pair);
      if (failed) this.counters.closedOnError++;
    });
    this.forwarded.add(pair);
  }

  private where(): string {
    return `${this.options.host}:${this.options.port}`;
  }
}

/** The IP as people write it: IPv4 clients of a dual-stack socket arrive as ::ffff:a.b.c.d. */
function plainAddress(remote: string | undefined): string | undefined {
  return remote?.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
