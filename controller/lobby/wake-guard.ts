import type { ServerConfig } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import type { ServerView } from '../reconcile/loop.js';
import type { AuditEntry, AuditRepo } from '../store/audit.js';
import { addressKey } from '../net/address-key.js';

/** The audit detail of a lobby wake, and of its outcome when nobody came (the cool-down looks for it). */
export const LOBBY_WAKE = 'joined the lobby';
const NOBODY_JOINED = 'nobody joined';

/**
 * What stands between a join and a wake besides the name: `wakeFrom` (only addresses where a listed
 * person who may start servers logged into the web pages within a web session's life) and
 * `wakeCooldown` (a wake that ended with nobody joining holds off the address it came from). Each lobby wake gets an outcome row in the audit log: who
 * joined, or that nobody did. The audit table is the whole state, so a restart keeps the cool-down and
 * nothing grows in memory.
 */
export class WakeGuard {
  /** The lobby wake still waiting for its outcome; undefined until read from the store. */
  private open: Pick<AuditEntry, 'actor' | 'source' | 'at'> | null | undefined;

  constructor(
    private readonly server: Pick<ServerConfig, 'id' | 'lobby'>,
    private readonly audit: AuditRepo,
    /** web.sessionMaxAge: how recent a web login must be for `wakeFrom: web-addresses`. */
    private readonly webSessionMs: number,
  ) {}

  /**
   * Why `name` from `address` may not wake the server now, as the player reads it; undefined if it may.
   * Both checks go by the address's key (IPv4 as it is, IPv6 by /64), never by the name: a name is
   * not authenticated in the lobby, so a stranger using it must not lock its owner out.
   */
  refusal(name: string, address: string, now: number): string | undefined {
    const { id, lobby } = this.server;
    const key = addressKey(address);
    if (lobby.wakeFrom === 'web-addresses' && !this.audit.starterLoginSources(now - this.webSessionMs).some((s) => addressKey(s) === key)) {
      return `${id} wakes only from addresses where someone who may start it logged into OoD's web pages in the last ${formatDuration(this.webSessionMs)}; log in there from this network, then join again`;
    }
    const last = this.audit.wakeOutcomesSince(id, now - lobby.wakeCooldown).find((w) => addressKey(w.source) === key);
    if (last?.detail !== NOBODY_JOINED) return undefined;
    const minutes = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));
    return `A wake of ${id} from this address ended ${minutes(now - last.at)} min ago with nobody joining; it can be woken again in ${minutes(last.at + lobby.wakeCooldown - now)} min, or started on OoD's web page`;
  }

  woke(actor: string, source: string, at: number): void {
    this.open = { actor, source, at };
  }

  /** Called after every change: records the open wake's outcome once players are seen or the server sleeps again. */
  follow(view: ServerView, now: number): void {
    if (this.open === undefined) this.open = this.loadOpen(view, now);
    const wake = this.open;
    if (!wake) return;
    const players = view.state.phase === 'running' ? view.observation?.players : undefined;
    let detail: string | undefined;
    if (players && players.online > 0) detail = players.names.length > 0 ? `players joined: ${players.names.join(', ')}` : 'players joined';
    else if (view.state.phase === 'archived' && view.state.desired === 'down') detail = NOBODY_JOINED;
    if (detail) this.record(wake, detail, now);
  }

  /** A wake left open by a controller that stopped: if the server is asleep again, nobody knows who came. */
  private loadOpen(view: ServerView, now: number): WakeGuard['open'] {
    const wake = this.audit.openLobbyWake(this.server.id) ?? null;
    if (wake && view.state.phase === 'archived' && view.state.desired === 'down' && view.state.phaseSince >= wake.at) {
      this.record(wake, 'outcome unknown: the controller was not running when it ended', now);
      return null;
    }
    return wake;
  }

  private record(wake: Pick<AuditEntry, 'actor' | 'source'>, detail: string, now: number): void {
    this.audit.add({ at: now, actor: wake.actor, source: wake.source, action: 'wake outcome', server: this.server.id, detail });
    this.open = null;
  }
}
