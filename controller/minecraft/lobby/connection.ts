import type { Cipher, Decipher, KeyObject } from 'node:crypto';
import type { Socket } from 'node:net';
import { messageOf } from '../../errors.js';
import { addressKey } from '../../net/address-key.js';
import { FrameDecoder } from './frames.js';
import { LEGACY_WAIT_MS, legacyAnswer, probeLegacy } from './legacy.js';
import { encodePacket, encodeString, LobbyProtocolError } from '../varint.js';
import { PacketReader } from './packet.js';
import { disconnectJson, statusJson } from './status-json.js';
import { routingName } from './server-address.js';
import { firstUseOfProvenJoin, OnlineLogin, OnlineLoginError, profileKeyOf } from './online-login.js';
import type { SessionServer } from './session-server.js';
import type { HeldLogin, LobbyHandlers, LobbyLog, LobbyResolver, LobbyStats, LobbyStatus, ProvenAccount } from './types.js';
import { HeldClient } from './held-client.js';
import { loginAccount, type LoginAccount } from './waiting-packets.js';
import { waitingProtocol, type WaitingProtocol } from './waiting-protocol.js';

export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  connectionTimeoutMs: number;
  maxPacketBytes: number;
  /** A held client gets a keep-alive this often, and is closed when one goes unanswered for 3 of them. */
  keepAliveMs: number;
  /** The longest a client is held, whatever its holder says (connectionTimeoutMs does not apply to a held one). */
  maxHoldMs: number;
}

export interface ConnectionContext {
  /** The handlers before a handshake names a server (legacy pings), and of every handshake without `resolve`. */
  handlers: LobbyHandlers;
  /** Hostname routing: the handlers of the server the handshake names. */
  resolve?: LobbyResolver;
  /**
   * Hostname routing's proxy: hands the socket (paused) to the listener, to be forwarded to `target`
   * with `replay` (every byte read so far) sent first. Set on a shared listener only.
   */
  forward?: (socket: Socket, replay: Buffer, target: { host: string; port: number }, proxyProtocol: boolean) => void;
  limits: ConnectionLimits;
  /** The session server's hasJoined, for handlers that `authenticate` (the listener's own, with its time-out and cap). */
  sessions: SessionServer;
  log: LobbyLog;
  stats: LobbyStats;
}

/**
 * legacy-probe: the first byte may start a pre-1.7 ping. handshake → status → ping, or handshake →
 * login → answering (the login handler runs). A hold (the waiting room) goes on to held: from Login
 * Success on, a HeldClient speaks for it. done: the answer (a kick, a Transfer) is sent or the socket
 * is gone.
 */
/** The largest packet a held client may send: vanilla's serverbound plugin message (32767) and its header. */
const HELD_PACKET_BYTES = 32_767 + 64;

type Phase = 'legacy-probe' | 'handshake' | 'status' | 'ping' | 'login' | 'encryption' | 'answering' | 'held' | 'done';

/** After the answer, keep reading (and dropping) a little so closing does not reset the client. */
const LINGER_MS = 2_000;
const INVALID_NAME = 'That player name is not valid.';
const LOGIN_FAILED = 'The server could not handle this login right now; try again in a moment.';
const EMPTY = Buffer.alloc(0);
/** Vanilla's rule (StringUtil.isValidPlayerName): printable ASCII without spaces. */
const VALID_NAME = /^[\x21-\x7e]{1,16}$/;
const REPLAYED = 'Could not verify your account: this join was already used. Join again.';
const NOT_VERIFIED = 'Could not verify your account: the session server has no record of this join. Restart your game (it renews your session) and join again.';

/**
 * One lobby connection: reads at most one packet at a time (FrameDecoder bounds it), answers a status
 * ping, a legacy ping or a login attempt, then ends. Anything unexpected destroys this socket only.
 * Every timer is cleared on close, so nothing outlives the socket.
 */
export class LobbyConnection {
  private phase: Phase = 'legacy-probe';
  private probe: Buffer = EMPTY;
  private readonly frames: FrameDecoder;
  private protocol = 0;
  /** The server this connection is for: the listener's own until the handshake names one. */
  private handlers: LobbyHandlers;
  private answered = false;
  /** The waiting room's side of this connection, once a hold began. */
  private hold: HeldClient | undefined;
  /** An online login (the handlers' `authenticate`): the Encryption Request sent, its answer awaited. */
  private online: { login: OnlineLogin; name: string } | undefined;
  /** AES/CFB8 once the shared secret is known: every packet written after it, and every byte read. */
  private cipher: Cipher | undefined;
  private decipher: Decipher | undefined;
  /**
   * Ends a session-server question when the client goes away. Made only when one is asked: an abort
   * builds a DOMException with its stack trace, which cost every status ping 4 % of the lobby's CPU.
   */
  private gone: AbortController | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Both end when a hold begins: a held client's wait is bounded by its holder and maxHoldMs. */
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly lifeTimer: NodeJS.Timeout;
  private legacyTimer: NodeJS.Timeout | undefined;
  /** On a shared listener, the chunks read until the handshake: replayed to the game if it is forwarded. */
  private received: Buffer[] | undefined;
  /** When the client last sent a byte (accepted, until then): the caps drop the idlest first. */
  lastActive = Date.now();

  /** Whether the caps may drop it for a newcomer: not while a login is being answered. */
  get evictable(): boolean {
    return this.phase !== 'login' && this.phase !== 'encryption' && this.phase !== 'answering';
  }

  /** In the waiting room: the listener's release() and close() leave it open (closeAll() ends it). */
  get holding(): boolean {
    return this.phase === 'held';
  }

  constructor(
    private readonly socket: Socket,
    private readonly address: string,
    private readonly ctx: ConnectionContext,
  ) {
    this.frames = new FrameDecoder(ctx.limits.maxPacketBytes);
    this.handlers = ctx.handlers;
    if (ctx.forward) this.received = [];
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => ctx.log.debug({ address, err: err.message }, 'Lobby connection failed'));
    socket.once('close', () => this.onClose());
    this.handshakeTimer = setTimeout(() => this.onHandshakeDeadline(), ctx.limits.handshakeTimeoutMs);
    this.lifeTimer = setTimeout(() => this.onLifeDeadline(), ctx.limits.connectionTimeoutMs);
    this.timers.push(this.handshakeTimer, this.lifeTimer);
    socket.resume();
  }

  private onData(chunk: Buffer): void {
    this.lastActive = Date.now();
    // Every byte after the Encryption Response is deciphered, also those dropped, so the stream stays in step.
    if (this.decipher) chunk = this.decipher.update(chunk);
    this.received?.push(chunk);
    if (this.readDone()) return; // read and dropped: nothing more is needed
    if (this.phase === 'legacy-probe') {
      const first = this.probe.length === 0 ? chunk : Buffer.concat([this.probe, chunk]);
      const kind = probeLegacy(first, true);
      if (kind === 'wait') {
        this.probe = Buffer.from(first); // one byte, 0xFE
        this.legacyTimer ??= setTimeout(() => this.answerLegacy('beta'), LEGACY_WAIT_MS);
        return;
      }
      this.probe = EMPTY;
      clearTimeout(this.legacyTimer);
      if (kind !== 'not-legacy') return this.answerLegacy(kind);
      this.phase = 'handshake';
      chunk = first;
    }
    try {
      for (const frame of this.frames.push(chunk)) {
        this.handle(frame);
        if (this.readDone()) break;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** The client has said all the lobby needs; what it sends now is dropped. */
  private readDone(): boolean {
    return this.phase === 'done' || this.phase === 'answering';
  }

  private handle(frame: Buffer): void {
    const packet = new PacketReader(frame);
    const id = packet.varInt('packet id');
    switch (this.phase) {
      case 'handshake': {
        if (id !== 0x00) throw new LobbyProtocolError(`Expected a handshake (0x00), got packet 0x${id.toString(16)}`);
        this.protocol = packet.varInt('protocol version');
        const serverAddress = packet.string('server address', 255);
        packet.unsignedShort('server port');
        const next = packet.varInt('next state');
        packet.end('handshake');
        if (this.ctx.resolve) this.handlers = this.ctx.resolve(routingName(serverAddress));
        if (next === 1) this.phase = 'status';
        else if (next === 2 || next === 3) this.phase = 'login';
        else throw new LobbyProtocolError(`Handshake asked for state ${next}`);
        this.forwardIfRouted();
        return;
      }
      case 'status':
      case 'ping':
        if (id === 0x00 && this.phase === 'status') {
          packet.end('status request');
          return this.answerStatus();
        }
        if (id === 0x01) {
          const payload = packet.take(8, 'ping payload');
          packet.end('ping');
          return this.finish(encodePacket(0x01, payload));
        }
        throw new LobbyProtocolError(`Packet 0x${id.toString(16)} is not expected in the ${this.phase} phase`);
      case 'login': {
        if (id !== 0x00) throw new LobbyProtocolError(`Expected Login Start (0x00), got packet 0x${id.toString(16)}`);
        // Only the name: what follows it (UUID, signature data) differs by version.
        const name = packet.string('player name', 16);
        if (this.handlers.authenticate && VALID_NAME.test(name)) return this.requestEncryption(name, packet.take(packet.remaining, 'login start'));
        return this.answerLogin(name);
      }
      case 'encryption':
        if (id !== 0x01) throw new LobbyProtocolError(`Expected an Encryption Response (0x01), got packet 0x${id.toString(16)}`);
        return this.answerEncryption(packet);
      case 'held':
        return this.hold!.onPacket(id, packet);
      default:
        throw new LobbyProtocolError(`No packet is expected in the ${this.phase} phase`);
    }
  }

  /**
   * A shared listener knows the server only now: when that server's route() names its running game,
   * the connection goes there, the bytes read so far (the handshake, and whatever came in the same
   * chunks) first. At most one handshake's worth is kept: the frame decoder bounds what precedes it.
   */
  private forwardIfRouted(): void {
    const received = this.received;
    this.received = undefined;
    if (!received || !this.ctx.forward || !this.handlers.route) return;
    let target: { host: string; port: number } | null;
    try {
      target = this.handlers.route();
    } catch (err) {
      this.ctx.log.warn({ err: messageOf(err) }, 'Lobby route() failed; answered the connection as the lobby');
      return;
    }
    if (!target) return;
    this.phase = 'done';
    this.frames.clear();
    for (const timer of this.timers) clearTimeout(timer);
    // Nothing more is read here: the proxy resumes the socket once the game's side is connected.
    this.socket.pause();
    this.ctx.forward(this.socket, Buffer.concat(received), target, this.handlers.proxyProtocol === true);
  }

  private answerStatus(): void {
    this.write(encodedStatus(this.handlers.status(), this.protocol, () => this.ctx.log.debug({ address: this.address }, 'Left the favicon out of a status answer: it is over the protocol string limit')));
    this.ctx.stats.statusAnswered++;
    this.answered = true;
    this.phase = 'ping';
  }

  /**
   * Online mode: the Encryption Request, with this process's key and a token of its own. The client
   * now asks the session server to note its join, which may take a while: the handshake deadline
   * ends here, the connection's life still bounds the whole login.
   */
  private requestEncryption(name: string, afterName: Buffer): void {
    let profileKey: KeyObject | undefined;
    try {
      profileKey = profileKeyOf(this.protocol, afterName);
    } catch (err) {
      if (!(err instanceof OnlineLoginError)) throw err;
      this.phase = 'answering';
      this.frames.clear();
      return this.kickAtLogin(`Could not verify your account: ${lowerFirst(err.message)}.`);
    }
    const login = new OnlineLogin(this.protocol, profileKey);
    this.online = { login, name };
    this.phase = 'encryption';
    clearTimeout(this.handshakeTimer);
    this.write(login.request());
  }

  /**
   * The client's shared secret: checked, then the stream is encrypted both ways, and the session server
   * asked whether this account joined with it. Only a proven account reaches login(); any failure is
   * a login disconnect saying why (encrypted once the secret is known), and wakes nothing.
   */
  private answerEncryption(packet: PacketReader): void {
    const { login, name } = this.online!;
    this.online = undefined;
    this.phase = 'answering';
    this.frames.clear();
    let serverHash: string;
    try {
      const keys = login.accept(packet);
      this.cipher = keys.cipher;
      this.decipher = keys.decipher;
      serverHash = keys.serverHash;
    } catch (err) {
      if (!(err instanceof OnlineLoginError)) throw err;
      this.ctx.stats.closedOnError++;
      this.ctx.log.debug({ address: this.address, name, err: err.message }, 'Refused an online login whose encryption did not check out');
      return this.kickAtLogin(`Could not verify your account: ${lowerFirst(err.message)}.`);
    }
    this.ctx.sessions.hasJoined(name, serverHash, (this.gone = new AbortController()).signal, addressKey(this.address)).then(
      (proven) => {
        if (this.socket.destroyed) return; // gone while asked: nobody to let in, nothing to wake
        if (proven && !firstUseOfProvenJoin(serverHash)) {
          this.ctx.log.warn({ address: this.address, name: proven.name }, 'Refused a replayed online login (its shared secret was used before)');
          return this.kickAtLogin(REPLAYED);
        }
        if (proven) return this.answerLogin(proven.name, proven);
        this.ctx.log.info({ address: this.address, name }, 'Refused a join the session server has no record of');
        this.kickAtLogin(NOT_VERIFIED);
      },
      (err: unknown) => {
        if (this.socket.destroyed) return;
        this.ctx.stats.closedOnError++;
        this.ctx.log.warn({ address: this.address, name, err: messageOf(err) }, 'Could not ask the session server about a join');
        this.kickAtLogin(`Could not verify your account: ${lowerFirst(messageOf(err))}. Try again in a moment.`);
      },
    ).catch((err: unknown) => this.fail(err));
  }

  /** `proven`: the session server vouched for this account (the handlers' `authenticate`). */
  private answerLogin(name: string, proven?: ProvenAccount): void {
    this.phase = 'answering';
    this.frames.clear();
    if (!VALID_NAME.test(name)) {
      this.ctx.stats.closedOnError++;
      this.ctx.log.debug({ address: this.address, name: JSON.stringify(name) }, 'Refused a login with an invalid player name');
      return this.finish(encodePacket(0x00, encodeString(disconnectJson(INVALID_NAME))));
    }
    this.ctx.stats.logins++;
    const { address, protocol } = this;
    const row = waitingProtocol(protocol);
    Promise.resolve()
      .then(() => this.handlers.login({ name, address, protocol, holdable: row !== undefined, ...(proven ? { proven } : {}) }))
      .then(
        (answer) => {
          if (typeof answer === 'string') return this.kickAtLogin(answer);
          // A protocol the table does not know, or a client already gone, is not held.
          if (!row || this.phase !== 'answering') {
            answer.hold.abandon();
            return this.kickAtLogin(answer.hold.text());
          }
          this.startHold(row, answer.hold, name, proven);
        },
        (err: unknown) => {
          this.ctx.stats.closedOnError++;
          this.ctx.log.warn({ address, name, err: messageOf(err) }, 'Lobby login handler failed; sent a generic answer');
          this.kickAtLogin(LOGIN_FAILED);
        },
      )
      .catch((err: unknown) => this.fail(err));
  }

  /** Login Disconnect: the login state's reason is a JSON string in every version. */
  private kickAtLogin(text: string): void {
    this.finish(encodePacket(0x00, encodeString(disconnectJson(text))));
  }

  /**
   * The waiting room: from Login Success on, the HeldClient speaks for this connection through its one
   * write(), finish() and fail(). The handshake and life deadlines end here: the client must
   * acknowledge within the handshake's time, and is held at most maxHoldMs in all.
   */
  private startHold(row: WaitingProtocol, login: HeldLogin, name: string, proven: ProvenAccount | undefined): void {
    let account: LoginAccount;
    try {
      account = loginAccount(name, proven);
    } catch (err) {
      login.abandon();
      throw err;
    }
    this.phase = 'held';
    // A held client is logged in: in the configuration state it sends what it sends a game, and a
    // modded one's channel list (minecraft:register) is often over the login's 2 KB. Vanilla allows a
    // serverbound plugin message 32 KiB; one frame that size per held client is the bound.
    this.frames.raiseLimit(HELD_PACKET_BYTES);
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.lifeTimer);
    const { address, ctx } = this;
    const { handshakeTimeoutMs, keepAliveMs, maxHoldMs } = ctx.limits;
    this.hold = new HeldClient(
      {
        address,
        log: ctx.log,
        stats: ctx.stats,
        ackTimeoutMs: handshakeTimeoutMs,
        keepAliveMs,
        maxHoldMs,
        write: (packet) => this.write(packet),
        finish: (packet) => this.finish(packet),
        fail: (err) => this.fail(err),
      },
      row,
      login,
      account,
    );
    ctx.log.debug({ address, name: account.name, protocol: this.protocol }, 'Held a login in the waiting room');
  }

  private answerLegacy(kind: 'beta' | 'v1'): void {
    if (this.phase !== 'legacy-probe') return;
    clearTimeout(this.legacyTimer);
    this.probe = EMPTY;
    try {
      const answer = legacyAnswer(kind, this.ctx.handlers.status());
      this.ctx.stats.legacy++;
      this.finish(answer);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Sends the last packet, then hangs up. */
  private finish(packet: Buffer): void {
    if (this.socket.destroyed) return;
    this.write(packet);
    this.answered = true;
    this.hangUp();
  }

  /**
   * Half-closes after what was written, and drops whatever still arrives until the peer closes too:
   * closing with unread input would send a reset, which can make the client lose the answer.
   */
  private hangUp(): void {
    this.phase = 'done';
    this.frames.clear();
    this.socket.end();
    this.timers.push(setTimeout(() => this.socket.destroy(), LINGER_MS));
  }

  private write(packet: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(this.cipher ? this.cipher.update(packet) : packet);
  }

  private fail(err: unknown): void {
    if (this.phase === 'done' && this.socket.destroyed) return;
    this.phase = 'done';
    this.ctx.stats.closedOnError++;
    const level = err instanceof LobbyProtocolError ? 'debug' : 'warn';
    this.ctx.log[level]({ address: this.address, err: messageOf(err) }, 'Closed a lobby connection');
    this.socket.destroy();
  }

  /** The client closed its side. A lone 0xFE is then a complete beta ping; anything else unfinished is dropped. */
  private onEnd(): void {
    if (this.phase === 'legacy-probe' && probeLegacy(this.probe, false) === 'beta') return this.answerLegacy('beta');
    if (this.phase === 'answering' || this.phase === 'done') return; // our end follows the answer
    if (this.answered) return this.hangUp(); // a status answer without a ping: let it flush
    this.phase = 'done';
    this.socket.destroy();
  }

  private onHandshakeDeadline(): void {
    if (this.answered || this.phase === 'answering' || this.phase === 'done') return;
    this.fail(new LobbyProtocolError(`Client did not finish its handshake within ${this.ctx.limits.handshakeTimeoutMs} ms (${this.frames.buffered} bytes of an unfinished packet)`));
  }

  private onLifeDeadline(): void {
    if (this.answered) {
      this.socket.destroy(); // answered; the client is just slow to hang up
      return;
    }
    if (this.phase === 'answering') this.ctx.log.warn({ address: this.address }, `Lobby login handler did not answer within ${this.ctx.limits.connectionTimeoutMs} ms`);
    this.fail(new LobbyProtocolError(`Connection was not done within ${this.ctx.limits.connectionTimeoutMs} ms`));
  }

  private onClose(): void {
    this.phase = 'done';
    this.gone?.abort();
    this.hold?.close();
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.legacyTimer);
    this.frames.clear();
    this.probe = EMPTY;
  }
}

/** "The session server did not answer" reads on after "Could not verify your account: ". */
function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The encoded Status Response, kept per status object and protocol number: while the handler returns
 * the same object, a ping costs no JSON or buffer work.
 */
const encoded = new WeakMap<object, Map<number, Buffer>>();

function encodedStatus(status: LobbyStatus, protocol: number, faviconDropped: () => void): Buffer {
  let byProtocol = encoded.get(status);
  if (!byProtocol) encoded.set(status, (byProtocol = new Map()));
  let packet = byProtocol.get(protocol);
  if (!packet) {
    const answer = statusJson(status, protocol);
    if (answer.faviconDropped) faviconDropped();
    packet = encodePacket(0x00, encodeString(answer.json));
    // Clients send their own protocol number; a few dozen versions at most, but never let it grow.
    if (byProtocol.size > 64) byProtocol.clear();
    byProtocol.set(protocol, packet);
  }
  return packet;
}
