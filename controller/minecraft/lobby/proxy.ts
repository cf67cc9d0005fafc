import { connect, type Socket } from 'node:net';
import type { LobbyLog } from './types.js';

/** After one side has closed, how long the other may take to flush and close before it is destroyed. */
const DRAIN_MS = 5_000;

export interface ProxiedPair {
  /** Ends both sides at once. */
  destroy(): void;
  /** When a byte last went either way (the connection's start until then). */
  lastActive(): number;
  /** Whether bytes have gone both ways: a game session (or status answer) under way, never dropped for a newcomer. */
  established(): boolean;
}

/**
 * Forwards a client connection to `target` byte for byte. The client socket stays paused (the server
 * accepts with pauseOnConnect) until the upstream is connected, so nothing it sends is lost or read by
 * the lobby. If the upstream cannot be reached within `connectTimeoutMs`, the client is destroyed: a
 * predictable failure the client retries, rather than a lobby answer on a connection meant for the game.
 * `header`, when given, is sent to the game before the client's first byte (the PROXY protocol header).
 * `replay`, when given, is what a shared lobby already read of the client (its handshake, and whatever
 * came with it), sent to the game after the header and before the rest of the stream.
 * `onClose(failed)` is called once, after both sockets have closed.
 */
export function proxyConnection(
  client: Socket,
  target: { host: string; port: number },
  connectTimeoutMs: number,
  log: LobbyLog,
  onClose: (failed: boolean) => void,
  header?: Buffer,
  replay?: Buffer,
): ProxiedPair {
  const where = `${target.host}:${target.port}`;
  const upstream = connect({ host: target.host, port: target.port });
  let connected = false;
  let failed = false;
  let open = 2;
  let active = Date.now();
  let fromClient = replay !== undefined && replay.length > 0;
  let fromGame = false;
  const closed = () => {
    if (--open === 0) onClose(failed);
  };
  const fail = (message: string) => {
    if (failed) return;
    failed = true;
    log.warn({ upstream: where, client: client.remoteAddress, err: message }, 'Could not forward a connection to the game server; dropped it');
    client.destroy();
    upstream.destroy();
  };
  const timer = setTimeout(() => fail(`no connection within ${connectTimeoutMs} ms`), connectTimeoutMs);

  client.setNoDelay(true);
  upstream.setNoDelay(true);
  upstream.once('connect', () => {
    clearTimeout(timer);
    connected = true;
    if (header) upstream.write(header);
    if (replay && replay.length > 0) upstream.write(replay);
    // pipe() relays each side's end (FIN) to the other; the server accepts with allowHalfOpen, so a
    // client that half-closes still receives the rest of the game server's answer.
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    // Beside pipe(), only to note activity: the caps drop the idlest connections first.
    client.on('data', () => {
      active = Date.now();
      fromClient = true;
    });
    upstream.on('data', () => {
      active = Date.now();
      fromGame = true;
    });
  });
  upstream.on('error', (err) => {
    if (!connected) fail(err.message);
    else log.debug({ upstream: where, err: err.message }, 'Forwarded connection failed on the game side');
  });
  client.on('error', (err) => log.debug({ upstream: where, err: err.message }, 'Forwarded connection failed on the client side'));
  // When one side is gone, the other is ended (pipe() has usually relayed that already) and gets a
  // moment to drain before it is destroyed, so a peer that never answers the FIN cannot hold it open.
  const follow = (from: Socket, to: Socket) => {
    from.once('close', () => {
      clearTimeout(timer);
      closed();
      if (to.destroyed) return;
      if (!connected) return to.destroy();
      to.end();
      setTimeout(() => to.destroy(), DRAIN_MS).unref();
    });
  };
  follow(client, upstream);
  follow(upstream, client);

  return {
    destroy() {
      client.destroy();
      upstream.destroy();
    },
    lastActive: () => active,
    established: () => fromClient && fromGame,
  };
}

