import { messageOf } from '../../errors.js';
import { LobbyProtocolError } from '../varint.js';
import type { PacketReader } from './packet.js';
import type { HeldLogin, HoldOutcome, LobbyLog, LobbyStats } from './types.js';
import { configurationDisconnect, keepAlive, loginSuccess, readConfiguration, transfer, waitingNotice, type LoginAccount } from './waiting-packets.js';
import type { WaitingProtocol } from './waiting-protocol.js';

/** What a held client needs of its lobby connection: its one write, its hang-up, and its failure. */
export interface HoldLink {
  readonly address: string;
  readonly log: LobbyLog;
  readonly stats: LobbyStats;
  /** How long the client has to acknowledge its login (the handshake's time). */
  readonly ackTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly maxHoldMs: number;
  write(packet: Buffer): void;
  /** Sends the last packet, then hangs up. */
  finish(packet: Buffer): void;
  /** Closes the connection for bad input or a missed deadline (counted in closedOnError). */
  fail(err: unknown): void;
}

/** Keep-alive intervals a held client may leave one unanswered. */
const KEEP_ALIVE_TICKS = 3;
const HELD_TOO_LONG = 'The server took too long to start; join again in a moment.';
const OUTCOME_FAILED = 'The server could not handle this login right now; try again in a moment.';

/**
 * One client in the waiting room, from Login Success on: it waits for Login Acknowledged, then holds
 * the client in the configuration state with keep-alives (and, 1.21.6+, a dialog with the holder's
 * text) until the holder's outcome: Transfer, or a Disconnect with the reason. The holder hears the
 * end once: its own outcome, or abandon() when the client leaves, is dropped, or is held past
 * maxHoldMs. Its timers end with close(), which the connection calls when its socket closes.
 */
export class HeldClient {
  private state: 'login-ack' | 'configuration' | 'ended' = 'login-ack';
  /** The holder's outcome, kept while the client has not acknowledged the login (Transfer is a configuration packet). */
  private outcome: HoldOutcome | undefined;
  /** The holder was told the end (its outcome, or abandon()): abandon() is never called again. */
  private settled = false;
  /** The keep-alive sent and not yet answered, and how many intervals it has waited. */
  private pending: { id: bigint; ticks: number } | undefined;
  /** The text the client's dialog shows, to send a new one only when it changed. */
  private shown: string | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly link: HoldLink,
    private readonly row: WaitingProtocol,
    private readonly login: HeldLogin,
    account: LoginAccount,
  ) {
    link.stats.held++;
    link.write(loginSuccess(row, account));
    this.timers.push(
      setTimeout(() => {
        if (this.state === 'login-ack') link.fail(new LobbyProtocolError(`Client did not acknowledge its login within ${link.ackTimeoutMs} ms`));
      }, link.ackTimeoutMs),
      setTimeout(() => this.onHoldDeadline(), link.maxHoldMs),
    );
    login.outcome.then(
      (outcome) => this.onOutcome(outcome),
      (err: unknown) => {
        link.log.warn({ address: link.address, err: messageOf(err) }, "A held login's outcome failed; sent a generic answer");
        this.onOutcome({ kick: OUTCOME_FAILED });
      },
    );
  }

  /** A packet from the client: Login Acknowledged first, then configuration packets. Throws LobbyProtocolError on anything else. */
  onPacket(id: number, packet: PacketReader): void {
    if (this.state === 'login-ack') {
      if (id !== this.row.login.acknowledged) throw new LobbyProtocolError(`Expected Login Acknowledged (0x${this.row.login.acknowledged.toString(16)}), got packet 0x${id.toString(16)}`);
      packet.end('login acknowledged');
      return this.enterConfiguration();
    }
    if (this.state === 'ended') return;
    const read = readConfiguration(this.row, id, packet);
    if (read === 'dropped') return;
    if (this.pending?.id !== read.keepAlive) throw new LobbyProtocolError(`Keep-alive answered with id ${read.keepAlive}, expected ${this.pending?.id ?? 'none'}`);
    this.pending = undefined;
  }

  /** The socket closed: a holder still waiting forgets this client. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.abandon();
    this.end();
  }

  private enterConfiguration(): void {
    this.state = 'configuration';
    this.timers.push(setInterval(() => this.onKeepAliveTick(), this.link.keepAliveMs));
    if (this.outcome) return this.deliver(this.outcome);
    this.showText();
  }

  /** Sends a keep-alive when the last one was answered; fails when one waited KEEP_ALIVE_TICKS intervals. */
  private onKeepAliveTick(): void {
    if (this.state !== 'configuration') return;
    if (this.pending) {
      if (++this.pending.ticks >= KEEP_ALIVE_TICKS) this.link.fail(new LobbyProtocolError(`Held client did not answer a keep-alive within ${KEEP_ALIVE_TICKS} × ${this.link.keepAliveMs} ms`));
      return;
    }
    this.showText();
    // Vanilla's ids are milliseconds; any id works as long as the answer echoes it.
    this.pending = { id: BigInt(Date.now()), ticks: 0 };
    this.link.write(keepAlive(this.row, this.pending.id));
  }

  /** Where the client has dialogs (1.21.6+), shows the holder's text, again whenever it changed. */
  private showText(): void {
    let text: string;
    try {
      text = this.login.text();
    } catch (err) {
      this.link.log.warn({ address: this.link.address, err: messageOf(err) }, "A held login's text() failed; the waiting client sees the last one");
      return;
    }
    if (text === this.shown) return;
    const notice = waitingNotice(this.row, text);
    if (!notice) return;
    this.shown = text;
    this.link.write(notice);
  }

  private onOutcome(outcome: HoldOutcome): void {
    if (this.settled) return; // already abandoned: gone, dropped, or past maxHoldMs
    this.settled = true;
    this.outcome = outcome;
    if (this.state === 'configuration') this.deliver(outcome);
  }

  /** Transfer, or Disconnect with the reason; then the connection hangs up. */
  private deliver(outcome: HoldOutcome): void {
    this.end();
    if ('transfer' in outcome) {
      this.link.stats.transferred++;
      this.link.log.debug({ address: this.link.address, to: outcome.transfer }, 'Transferred a held client');
      return this.link.finish(transfer(this.row, outcome.transfer.host, outcome.transfer.port));
    }
    this.link.finish(configurationDisconnect(this.row, outcome.kick));
  }

  private onHoldDeadline(): void {
    if (this.state === 'ended') return;
    this.link.log.info({ address: this.link.address, maxHoldMs: this.link.maxHoldMs }, "Let a held client go after the lobby's longest hold");
    this.abandon();
    if (this.state === 'configuration') this.deliver({ kick: HELD_TOO_LONG });
    else this.link.fail(new LobbyProtocolError(`Client was held ${this.link.maxHoldMs} ms without acknowledging its login`));
  }

  private abandon(): void {
    if (this.settled) return;
    this.settled = true;
    try {
      this.login.abandon();
    } catch (err) {
      this.link.log.warn({ address: this.link.address, err: messageOf(err) }, "A held login's abandon() failed");
    }
  }

  /** No longer held (counted once in stats.held). */
  private end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.link.stats.held--;
  }
}
