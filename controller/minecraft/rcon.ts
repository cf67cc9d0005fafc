import { Rcon } from 'rcon-client';
import { RconError } from '../errors.js';
import { parsePlayerList, type PlayerList } from './player-list.js';

export interface RconTarget {
  host: string;
  port: number;
  password: string;
}

/**
 * One RCON connection, kept open between ticks and opened again after any failure.
 * rcon-client does the protocol; this adds timeouts, typed errors, and the replies OoD reads.
 */
export class RconSession {
  private rcon: Rcon | undefined;
  private target: RconTarget | undefined;

  constructor(private readonly timeoutMs = 3_000) {}

  async send(target: RconTarget, command: string): Promise<string> {
    const where = `${target.host}:${target.port}`;
    try {
      const rcon = await this.connection(target);
      return await rcon.send(command);
    } catch (err) {
      await this.close();
      throw new RconError(`RCON command "${command.split(' ')[0]}" to ${where} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The players `list` counts; see `namesFromSample` for names it leaves unsplit. */
  async list(target: RconTarget): Promise<PlayerList> {
    const reply = await this.send(target, 'list');
    const players = parsePlayerList(reply);
    if (!players) throw new RconError(`RCON "list" at ${target.host}:${target.port} answered in an unknown wording: ${JSON.stringify(reply.slice(0, 200))}`);
    return players;
  }

  /**
   * Drops the connection at once. Not rcon-client's `end()`: it waits for the server to close its side,
   * which a hung (e.g. SIGSTOPped) game never does, and that wait held up every later probe.
   */
  async close(): Promise<void> {
    const rcon = this.rcon;
    this.rcon = undefined;
    this.target = undefined;
    rcon?.socket?.destroy();
    await Promise.resolve();
  }

  private async connection(target: RconTarget): Promise<Rcon> {
    const same = this.target && this.target.host === target.host && this.target.port === target.port && this.target.password === target.password;
    if (this.rcon && same && this.rcon.authenticated) return this.rcon;
    await this.close();
    const rcon = new Rcon({ host: target.host, port: target.port, password: target.password, timeout: this.timeoutMs });
    // rcon-client emits 'error' on socket errors after connect; without a listener Node would crash.
    rcon.on('error', () => void this.close());
    await rcon.connect();
    this.rcon = rcon;
    this.target = target;
    return rcon;
  }
}
