import { readFileSync } from 'node:fs';
import type { ServerConfig } from '../config/schema.js';
import type { Request } from '../controller.js';
import { messageOf } from '../errors.js';
import type { Estimates } from '../estimates.js';
import type { Logger } from '../log.js';
import { LobbyListener, type LobbyHandlers, type LobbyStatus } from '../minecraft/lobby/lobby-listener.js';
import type { ServerView } from '../reconcile/loop.js';
import type { Phase } from '../reconcile/types.js';
import { addressKey } from '../net/address-key.js';
import { isLoopbackHost } from '../net/loopback-host.js';
import { may } from '../store/people.js';
import type { PeopleRepo } from '../store/people.js';
import { BudgetError } from '../cost/cost-meter.js';
import { ImageBuildRunningError } from '../image-build-mark.js';
import { motd, readyIn } from './lobby-texts.js';
import { PerMinuteLimit } from './wake-limits.js';
import type { AuditRepo } from '../store/audit.js';
import { LOBBY_WAKE, WakeGuard } from './wake-guard.js';
import { WaitingRoom } from './waiting-room.js';
import { lobbyAuthenticates } from './online-mode.js';
import type { LoginAnswer, LoginAttempt } from '../minecraft/lobby/types.js';
import type { PlayerAddress } from '../servers/player-address.js';

export interface LobbyDeps {
  server: ServerConfig;
  view(): ServerView;
  /** Where the running game listens, as this machine reaches it (the driver's answer). */
  gameEndpoint(): { host: string; port: number } | null;
  /** Where players connect (the driver's playerAddress()): the waiting room's Transfer target. */
  playerAddress(): PlayerAddress | null;
  /** Wants the server up, on behalf of `who` (recorded in the audit log). */
  wake(who: Request): ServerView;
  people: PeopleRepo;
  /** Web logins (wakeFrom), and each lobby wake's outcome (the cool-down). */
  audit: AuditRepo;
  /** web.sessionMaxAge: a web login this recent lets its address wake (wakeFrom: web-addresses). */
  webSessionMs: number;
  estimates: Estimates;
  log: Logger;
  clock: () => number;
  /** Whether this lobby listens on the server's own game port (config/hostname-routes.ts decides); default yes. */
  ownPort?: boolean;
  /** Top-level lobby.sessionServer: where an authenticating lobby asks hasJoined. Default Mojang's. */
  sessionServer?: string;
}

/**
 * Phases in which the game's process may hold its port on this machine (so the lobby must not).
 * Not `booting`: there the lobby answers until the driver takes the port for the game (releasePort).
 */
const GAME_OWNS_PORT = new Set<Phase>(['running', 'stopping', 'powering_off']);
/** How long lobby connections open at the hand-over may finish their answer. */
const HANDOVER_GRACE_MS = 2_000;
/** How soon a failed listen is tried again. */
const RETRY_MS = 2_000;

/**
 * One server's lobby: OoD's own Minecraft listener on the server's public game port. In `wake` mode on
 * the local driver it holds the port only while the game does not (the driver asks for it back just
 * before it starts the game, and the lobby takes it again once the game has exited); on a droplet the
 * port is this machine's alone, so it holds it always. In `proxy` mode it holds it always and forwards
 * connections to the running game.
 */
export class LobbyService {
  /** What answers for this server, on its own port and on the shared lobby alike (built once). */
  readonly handlers: LobbyHandlers;
  private readonly listener: LobbyListener;
  private readonly byAddress: PerMinuteLimit;
  private readonly byName: PerMinuteLimit;
  private readonly guard: WakeGuard;
  /** Joins held while the server starts (clients 1.20.5+), sent on with Transfer once it answers. */
  private readonly room: WaitingRoom;
  private readonly favicon: string | undefined;
  /** Set when the driver took the port for the game; cleared once the game has exited. */
  private handedToGame = false;
  private busy: Promise<void> = Promise.resolve();
  private lastAttempt = -Infinity;
  private lastWarning = '';
  private closed = false;
  /** The last status answer: server lists ping often, and what they show changes at most each tick. */
  private lastStatus: { at: number; status: LobbyStatus } | undefined;

  constructor(private readonly d: LobbyDeps) {
    const { lobby } = d.server;
    this.byAddress = new PerMinuteLimit(lobby.wakesPerMinute);
    this.byName = new PerMinuteLimit(lobby.wakesPerMinute);
    this.guard = new WakeGuard(d.server, d.audit, d.webSessionMs);
    this.room = new WaitingRoom({
      id: d.server.id,
      holdForMs: lobby.holdFor,
      view: () => d.view(),
      target: () => d.playerAddress(),
      estimates: d.estimates,
      clock: d.clock,
      log: d.log.child({ component: 'waiting-room' }),
    });
    this.favicon = lobby.icon ? `data:image/png;base64,${readFileSync(lobby.icon).toString('base64')}` : undefined;
    const log = d.log.child({ component: 'lobby' });
    this.handlers = {
      status: () => this.status(),
      // Every join's account proven by the session server before login(): a name on the wake list is then a proven account.
      authenticate: lobbyAuthenticates(d.server),
      login: (attempt) => this.login(attempt),
      ...(lobby.mode === 'proxy' ? { route: () => this.route(), proxyProtocol: lobby.proxyProtocol } : {}),
    };
    this.listener = new LobbyListener(
      this.handlers,
      { host: lobby.host, port: d.server.game.port, proxyProtocol: lobby.proxyProtocol, ...(d.sessionServer ? { sessionServer: d.sessionServer } : {}) },
      log,
    );
  }

  get listening(): boolean {
    return this.listener.listening;
  }

  /** Open connections forwarded to the game (proxy mode). */
  get proxied(): number {
    return this.listener.proxied;
  }

  stats() {
    return this.listener.stats();
  }

  /** Joins held in the waiting room now. */
  get waiting(): number {
    return this.room.size;
  }

  /** Listens or lets go of the port, as the server's phase says; called after every change. */
  sync(): void {
    this.lastStatus = undefined;
    try {
      this.guard.follow(this.d.view(), this.d.clock());
    } catch (err) {
      this.d.log.error({ err: messageOf(err) }, 'Could not record how a lobby wake ended');
    }
    this.room.sync();
    this.busy = this.busy.then(() => this.apply()).catch((err: unknown) => this.d.log.error({ err: messageOf(err) }, 'The lobby could not follow the server'));
  }

  /**
   * The local driver is about to have the game bind this port: let go of it, at once. The bundled game
   * asks for it as it binds, any other game before it starts (the local driver's boot). Connections
   * already open finish their answers; the port is free when this resolves.
   */
  async releasePort(): Promise<void> {
    // Without its own port the lobby never held it: the game binds it by itself.
    if (this.d.server.lobby.mode !== 'wake' || this.d.ownPort === false) return;
    this.handedToGame = true;
    this.busy = this.busy.then(() => this.listener.release(HANDOVER_GRACE_MS));
    await this.busy;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.room.close(`OoD is stopping; join ${this.d.server.id} again in a minute`);
    await this.busy;
    await this.listener.closeAll();
  }

  private wanted(): boolean {
    const { server } = this.d;
    if (this.closed || server.lobby.mode === 'off' || this.d.ownPort === false) return false;
    if (server.lobby.mode === 'proxy' || server.driver !== 'local') return true;
    const view = this.d.view();
    const { phase } = view.state;
    const gameMayRun = GAME_OWNS_PORT.has(phase) || view.observation?.power === 'on';
    // The game has exited (or never started): the port is the lobby's again. Not while booting: a game
    // that was handed the port and exited is booted again on it, and its boot asks for it afresh.
    if (!gameMayRun && phase !== 'provisioning' && phase !== 'booting') this.handedToGame = false;
    return !this.handedToGame && !gameMayRun;
  }

  private async apply(): Promise<void> {
    const wanted = this.wanted();
    if (!wanted && this.listener.listening) await this.listener.close();
    if (!wanted || this.listener.listening) return;
    const now = this.d.clock();
    if (now - this.lastAttempt < RETRY_MS) return;
    this.lastAttempt = now;
    try {
      await this.listener.listen();
      this.lastWarning = '';
      this.d.log.info({ host: this.d.server.lobby.host, port: this.d.server.game.port, mode: this.d.server.lobby.mode }, 'The lobby answers on the game port');
    } catch (err) {
      const message = messageOf(err);
      // Said once per reason, then retried quietly: a port held by a game that is still exiting frees up.
      if (message !== this.lastWarning) this.d.log.warn({ err: message }, 'The lobby could not listen; trying again');
      this.lastWarning = message;
    }
  }

  private status(): LobbyStatus {
    const now = this.d.clock();
    // Kept a second at most, so "ready in about 70 s" still counts down.
    if (this.lastStatus && now - this.lastStatus.at < 1_000) return this.lastStatus.status;
    const status = this.freshStatus(now);
    this.lastStatus = { at: now, status };
    return status;
  }

  private freshStatus(now: number): LobbyStatus {
    const view = this.d.view();
    const players = view.state.phase === 'running' ? view.observation?.players : null;
    return {
      motd: motd(this.d.server.id, view, this.d.estimates.of(this.d.server.id, view.state.phaseSince), now),
      versionName: this.d.server.lobby.versionName,
      online: players?.online ?? 0,
      max: players?.max ?? 0,
      ...(this.favicon ? { favicon: this.favicon } : {}),
    };
  }

  private mayWake(name: string): boolean {
    const lower = name.toLowerCase();
    if (this.d.server.lobby.wakers.some((w) => w.toLowerCase() === lower)) return true;
    const person = this.d.people.byMinecraftName(name);
    return person !== undefined && may(person, 'start');
  }

  private login(attempt: LoginAttempt): LoginAnswer {
    const { name, address } = attempt;
    // The connection proves the account first when asked to; a login without the proof never wakes or holds.
    if (this.handlers.authenticate && !attempt.proven) return `Could not verify your account; ${this.d.server.id} admits only accounts the session server vouches for`;
    const { id } = this.d.server;
    const now = this.d.clock();
    const view = this.d.view();
    const estimate = this.d.estimates.of(id, view.state.phaseSince);
    // Reached through the shared lobby while it runs (wake mode: its own port is the game's now): a
    // client that can be transferred is sent there at once, or as soon as the game answers.
    if (view.state.phase === 'running') return this.holdOr(attempt, `${id} is up: connect to ${view.state.address ?? 'its address'}`);
    // Per address key (an IPv6 client holds a whole /64) and per name in any spelling.
    if (!this.byAddress.take(addressKey(address), now) || !this.byName.take(name.toLowerCase(), now)) {
      return `Too many tries; wait a minute before joining ${id} again`;
    }
    if (!this.mayWake(name)) {
      this.d.log.info({ name, address }, 'A join by a name that may not wake this server');
      return `${name} may not wake ${id}. Ask its admin to link your Minecraft name to your OoD account`;
    }
    if (view.state.phase === 'failed') return `${id} needs attention before it can start; ask its admin (see OoD's page)`;
    if (view.state.desired === 'up') return this.holdOr(attempt, `${id} is already starting, ready in ${readyIn(view, estimate, now)} — join again then`);
    if (view.state.phase !== 'archived') return `${id} is going to sleep; try again in a minute`;
    const refusal = this.guard.refusal(name, address, now);
    if (refusal) {
      this.d.log.info({ name, address }, 'Refused a wake by join: wakeFrom or wakeCooldown');
      return refusal;
    }
    let woken: ServerView;
    try {
      woken = this.d.wake({ actor: `minecraft:${name}`, source: address, detail: LOBBY_WAKE });
      this.guard.woke(`minecraft:${name}`, address, now);
    } catch (err) {
      if (err instanceof BudgetError) return `${id} would go past this month's budget; ask its admin`;
      if (err instanceof ImageBuildRunningError) return `${id} is getting a new base image (build ${err.mark.build}); try again when it is done`;
      throw err;
    }
    this.d.log.info({ name, address }, 'Woken by a join');
    return this.holdOr(attempt, `Starting ${id}, ready in ${readyIn(woken, estimate, now)} — join again then`);
  }

  /**
   * The waiting room for a client that can be held (1.20.5+, its protocol in the lobby's table); the
   * text (join again later) for any other, or when the room is full.
   */
  private holdOr(attempt: LoginAttempt, text: string): LoginAnswer {
    // A players' address only this machine reaches (local.publicHost left at localhost) would send a
    // player from elsewhere to their own machine after the whole start; the text has them join again
    // where they did, which works, as it did before the waiting room.
    const target = this.d.playerAddress();
    if (target && isLoopbackHost(target.host) && !isLoopbackHost(attempt.address)) return text;
    const hold = attempt.holdable ? this.room.hold(attempt.name) : undefined;
    return hold ? { hold } : text;
  }

  private route(): { host: string; port: number } | null {
    const view = this.d.view();
    if (view.state.phase !== 'running' || view.observation?.game !== 'answering') return null;
    return this.d.gameEndpoint();
  }
}
