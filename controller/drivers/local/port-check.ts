import { createServer } from 'node:net';
import { HostError } from '../../errors.js';
import { portHolders, type PortHolder } from './port-holders.js';

/** A port the game will listen on, and on which address (undefined: every address, as the game does). */
export interface GamePort {
  what: 'game' | 'RCON';
  host: string | undefined;
  port: number;
}

/**
 * A port the game needs is held by another program. Not retryable: the game would fail to listen on
 * every boot (a game port in use took three boots and 23 s to fail, with EADDRINUSE only in the
 * game's log; issue 18, item 9), and only a person can free the port or choose another.
 */
export class PortInUseError extends HostError {
  constructor(
    readonly port: GamePort,
    readonly holders: readonly PortHolder[],
  ) {
    super(`The ${port.what} port ${port.port} is already in use by ${describeHolders(holders)}, so the game could not listen on it; stop that program or set game.${port.what === 'game' ? 'port' : 'rconPort'} to a free port, then start the server again`, false);
  }
}

function describeHolders(holders: readonly PortHolder[]): string {
  if (holders.length === 0) {
    return 'a process OoD cannot see (another user\'s, or one in another network namespace; `sudo ss -tanp` names it)';
  }
  return holders.map((h) => `${h.name} (pid ${h.pid}${h.pid === process.pid ? ', this controller' : ''}${h.state === 'LISTEN' ? '' : `, a ${h.state} connection`})`).join(', ');
}

/** Whether `host:port` can be bound now: listens for a moment and lets go. Resolves to the bind's error, if any. */
function tryBind(host: string | undefined, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ port, ...(host ? { host } : {}), exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * Checks, before the game starts, that it can listen on each of `ports` the way it will (on its
 * `server-ip`, else on every address). A port held only by this controller, when `lobbyMayHold(port)`
 * says the lobby holds that one until it hands it over, is free for the game's purpose: the lobby
 * lets go of it for the game. Config validation keeps every other port of this controller (the API,
 * other servers' ports) off a server's ports, so any socket of this process on it is the lobby's.
 * Resolves to the ports the lobby holds; throws `PortInUseError` for a port held by anyone else.
 */
export async function checkGamePorts(ports: readonly GamePort[], lobbyMayHold: (port: number) => boolean): Promise<number[]> {
  const heldByLobby: number[] = [];
  for (const port of ports) {
    const err = await tryBind(port.host, port.port);
    if (!err) continue;
    const where = `${port.host ?? 'every address'} port ${port.port}`;
    if (err.code === 'EADDRNOTAVAIL') throw new HostError(`The game cannot listen on ${where}: ${port.host} is not an address of this machine; fix server-ip in the host's server.properties`, false, { cause: err });
    if (err.code === 'EACCES') throw new HostError(`The game may not listen on ${where} (ports below 1024 need privileges); choose a port above 1023`, false, { cause: err });
    if (err.code !== 'EADDRINUSE') throw new HostError(`Could not check that the game can listen on ${where}: ${err.message}`, true, { cause: err });
    const holders = await portHolders(port.port);
    const others = holders.filter((h) => h.pid !== process.pid || !lobbyMayHold(port.port));
    if (holders.length > 0 && others.length === 0) heldByLobby.push(port.port);
    else throw new PortInUseError(port, others);
  }
  return heldByLobby;
}
