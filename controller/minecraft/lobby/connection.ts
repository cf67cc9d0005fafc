import type { Socket } from 'node:net';
import { messageOf } from '../../errors.js';
import { FrameDecoder } from './frames.js';
import { LEGACY_WAIT_MS, legacyAnswer, probeLegacy } from './legacy.js';
import { encodePacket, encodeString, LobbyProtocolError } from '../varint.js';
import { PacketReader } from './packet.js';
import { disconnectJson, statusJson } from './status-json.js';
import { routingName } from './server-address.js';
import type { LobbyHandlers, LobbyLog, LobbyResolver, LobbyStats, LobbyStatus } from './types.js';

export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  connectionTimeoutMs: number;
  maxPacketBytes: number;
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
  log: LobbyLog;
  stats: LobbyStats;
}

/**
 * legacy-probe: the first byte may start a pre-1.7 ping. handshake → status → ping, or handshake →
 * login → answering (the login handler runs). done: the answer is sent or the socket is gone.
 */
type Phase = 'legacy-probe' | 'handshake' | 'status' | 'ping' | 'login' | 'answering' | 'done';

/** After the answer, keep reading (and dropping) a little so closing does not reset the client. */
const LINGER_MS = 2_000;
const INVALID_NAME = 'That player name is not valid.';
const LOGIN_FAILED = 'The server could not handle this login right now; try again in a moment.';
const EMPTY = Buffer.alloc(0);

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
  private readonly timers: NodeJS.Timeout[] = [];
  private legacyTimer: NodeJS.Timeout | undefined;
  /** On a shared listener, the chunks read until the handshake: replayed to the game if it is forwarded. */
  private received: Buffer[] | undefined;
  /** When the client last sent a byte (accepted, until then): the caps drop the idlest first. */
  lastActive = Date.now();

  /** Whether the caps may drop it for a newcomer: not while a login is being answered. */
  get evictable(): boolean {
    return this.phase !== 'login' && this.phase !== 'answering';
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
    this.timers.push(
      setTimeout(() => this.onHandshakeDeadline(), ctx.limits.handshakeTimeoutMs),
      setTimeout(() => this.onLifeDeadline(), ctx.limits.connectionTimeoutMs),
    );
    socket.resume();
  }

  private onData(chunk: Buffer): void {
    this.lastActive = Date.now();
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
        return this.answerLogin(name);
      }
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

  private answerLogin(name: string): void {
    this.phase = 'answering';
    this.frames.clear();
    // Vanilla's rule (StringUtil.isValidPlayerName): printable ASCII without spaces.
    if (!/^[\x21-\x7e]{1,16}$/.test(name)) {
      this.ctx.stats.closedOnError++;
      this.ctx.log.debug({ address: this.address, name: JSON.stringify(name) }, 'Refused a login with an invalid player name');
      return this.finish(encodePacket(0x00, encodeString(disconnectJson(INVALID_NAME))));
    }
    this.ctx.stats.logins++;
    const { address, protocol } = this;
    Promise.resolve()
      .then(() => this.handlers.login({ name, address, protocol, holdable: false }))
      .then(
        (answer) => {
          // Not holdable yet: a hold is answered as a kick with its text.
          if (typeof answer !== 'string') answer.hold.abandon();
          const text = typeof answer === 'string' ? answer : answer.hold.text();
          this.finish(encodePacket(0x00, encodeString(disconnectJson(text))));
        },
        (err: unknown) => {
          this.ctx.stats.closedOnError++;
          this.ctx.log.warn({ address, name, err: messageOf(err) }, 'Lobby login handler failed; sent a generic answer');
          this.finish(encodePacket(0x00, encodeString(disconnectJson(LOGIN_FAILED))));
        },
      )
      .catch((err: unknown) => this.fail(err));
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
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(packet);
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
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.legacyTimer);
    this.frames.clear();
    this.probe = EMPTY;
  }
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
