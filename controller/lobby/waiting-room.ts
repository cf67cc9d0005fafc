import type { Estimates } from '../estimates.js';
import type { HeldLogin, HoldOutcome } from '../minecraft/lobby/types.js';
import type { ServerView } from '../reconcile/loop.js';
import type { PlayerAddress } from '../servers/player-address.js';
import { readyIn } from './lobby-texts.js';

/**
 * Held joins per server. Each costs a promise, a timer and (in the listener) one connection, which the
 * listener's caps already bound (per address, and 1024 in all by default); this bound keeps one
 * server's room from taking every slot of a shared lobby. A join past it gets today's text instead.
 */
export const MAX_HOLDS_PER_SERVER = 1_000;

export interface WaitingRoomDeps {
  /** The server's id, as players read it. */
  id: string;
  /** lobby.holdFor: how long a join is held before it is let go with the reason. */
  holdForMs: number;
  view(): ServerView;
  /** Where players connect (servers/player-address.ts): the Transfer's target. Null while unknown. */
  target(): PlayerAddress | null;
  estimates: Pick<Estimates, 'of'>;
  clock: () => number;
  log: { info(obj: object, msg: string): void };
  maxHolds?: number;
}

/** A hold's end by what the server does now, or undefined to keep waiting. */
export function holdVerdict(id: string, view: ServerView, target: PlayerAddress | null): HoldOutcome | undefined {
  const { phase, desired } = view.state;
  // The same test as the proxy's route(): the game answers a status ping, so a client sent there gets in.
  if (phase === 'running' && view.observation?.game === 'answering' && target) return { transfer: { host: target.host, port: target.port } };
  if (phase === 'failed') return { kick: `${id} could not start and needs attention; ask its admin (see OoD's page)` };
  if (desired === 'down') return { kick: `${id} was stopped before it was ready; join again to wake it` };
  return undefined;
}

/** "45 s", "3 min": how a hold's limit reads in a disconnect message. */
export function holdLimitText(ms: number): string {
  const seconds = Math.round(ms / 1_000);
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

interface Hold {
  name: string;
  settle(outcome: HoldOutcome): void;
  timer: NodeJS.Timeout;
}

/**
 * One server's waiting room (issue 20): the joins the lobby holds while the server starts. Each hold
 * settles once: Transfer to the players' address when the game answers; a kick with the reason when
 * the start failed, the server is wanted down, or `holdFor` passed. Driven by `sync()` (the lobby's,
 * after every change of the server) and each hold's own timer.
 */
export class WaitingRoom {
  private readonly holds = new Set<Hold>();

  constructor(private readonly d: WaitingRoomDeps) {}

  /** Joins held now. */
  get size(): number {
    return this.holds.size;
  }

  /** Holds a join by `name`; undefined when the room is full (the caller answers with text instead). */
  hold(name: string): HeldLogin | undefined {
    if (this.holds.size >= (this.d.maxHolds ?? MAX_HOLDS_PER_SERVER)) return undefined;
    const { id, holdForMs } = this.d;
    let settle!: (outcome: HoldOutcome) => void;
    const outcome = new Promise<HoldOutcome>((resolve) => (settle = resolve));
    const hold: Hold = {
      name,
      settle: (o) => {
        if (!this.holds.delete(hold)) return;
        clearTimeout(hold.timer);
        settle(o);
      },
      timer: setTimeout(() => hold.settle({ kick: `${id} did not start within ${holdLimitText(holdForMs)}; join again` }), holdForMs),
    };
    // A hold must not keep the process alive: close() ends them all when the controller stops.
    hold.timer.unref();
    this.holds.add(hold);
    const held: HeldLogin = {
      text: () => this.text(),
      outcome,
      abandon: () => hold.settle({ kick: `${name} left the waiting room` }),
    };
    // It may already be known (a server that answered between the login's look and now).
    const verdict = holdVerdict(id, this.d.view(), this.d.target());
    if (verdict) hold.settle(verdict);
    return held;
  }

  /** Settles every hold whose end the server's state now says; called after every change. */
  sync(): void {
    if (this.holds.size === 0) return;
    const verdict = holdVerdict(this.d.id, this.d.view(), this.d.target());
    if (!verdict) return;
    const held = [...this.holds];
    for (const hold of held) hold.settle(verdict);
    // One line for the lot: a room may hold hundreds.
    this.d.log.info({ held: held.length, names: held.slice(0, 10).map((h) => h.name), ...verdict }, 'transfer' in verdict ? 'Sent held joins to the server' : 'Let held joins go');
  }

  /** Lets every hold go with `reason` (the controller stops). */
  close(reason: string): void {
    for (const hold of [...this.holds]) hold.settle({ kick: reason });
  }

  /** "Starting survival — ready in about 40 s", as the lobby's other texts count it down. */
  private text(): string {
    const view = this.d.view();
    const now = this.d.clock();
    return `Starting ${this.d.id} — ready in ${readyIn(view, this.d.estimates.of(this.d.id, view.state.phaseSince), now)}`;
  }
}
