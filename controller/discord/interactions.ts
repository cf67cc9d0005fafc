import type { Controller, Request } from '../controller.js';
import { BudgetError } from '../cost/cost-meter.js';
import { ImageBuildRunningError } from '../image-build-mark.js';
import type { Logger } from '../log.js';
import { may, type Person } from '../store/people.js';
import { WorldChoiceRunningError } from '../worlds/world-errors.js';
import { cardFor } from './card-facts.js';
import { ephemeral, notAllowed, notListed, parseCustomId, statusCards, type ButtonAction, type MessageData } from './card.js';
import { chooseServer, parseCommand, serverChoices } from './commands.js';
import type { AutocompleteInteraction, CommandInteraction, ComponentInteraction, Interaction } from './interaction-schema.js';
import { identityOf } from './interaction-schema.js';
import type { TrackRequest } from './followups.js';

/** Discord's callback types (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type). */
export type InteractionResponse =
  | { type: 1 }
  /** CHANNEL_MESSAGE_WITH_SOURCE: a new message (a card, or an ephemeral refusal). */
  | { type: 4; data: MessageData }
  /** UPDATE_MESSAGE: the pressed button's message becomes this. */
  | { type: 7; data: MessageData }
  /** APPLICATION_COMMAND_AUTOCOMPLETE_RESULT. */
  | { type: 8; data: { choices: { name: string; value: string }[] } };

export interface InteractionDeps {
  controller: Controller;
  /** Where people open OoD (publicUrl, else the listen address): the not-listed answer sends them to its /login. */
  origin: string;
  /**
   * Starts the follow-up edits of a start's or stop's message (DiscordFollowups.track), called inside
   * `want`'s transaction so the first move cannot slip between the change and the row; absent, the
   * message is answered once and not edited.
   */
  track: ((r: TrackRequest) => void) | undefined;
  clock: () => number;
  log: Logger;
}

/** The errors a start or stop is refused with for a reason a person can act on: their own words go back. */
const REFUSALS = [BudgetError, ImageBuildRunningError, WorldChoiceRunningError];

/** What each action needs, as on the web's buttons (page-routes.ts ACTIONS: keep alive is a start's permission). */
const PERMISSION: Record<ButtonAction, 'start' | 'stop'> = { start: 'start', stop: 'stop', keepalive: 'start' };

/** Unlisted callers logged, by identity, with when: each once an hour at most, the map held small. */
const LOG_UNLISTED_EVERY_MS = 60 * 60_000;

/**
 * Answers one verified, parsed interaction. Every answer is synchronous and far inside Discord's 3 s:
 * actions only change what is wanted (the loop acts), and the card is read from memory and the store.
 */
export class InteractionHandler {
  private readonly unlistedLogged = new Map<string, number>();

  constructor(private readonly d: InteractionDeps) {}

  answer(i: Interaction): InteractionResponse {
    if (i.type === 1) return { type: 1 };
    const identity = identityOf(i);
    if (identity === undefined) return { type: 4, data: ephemeral('Discord did not say who you are, so OoD cannot tell what you may do.') };
    const person = this.d.controller.store.people.get(identity);
    if (i.type === 4) return this.autocomplete(i, person);
    if (!person) return { type: 4, data: this.notListed(identity) };
    return i.type === 2 ? this.command(i, person) : this.button(i, person);
  }

  /** Server names as the person types; only listed people learn them. */
  private autocomplete(i: AutocompleteInteraction, person: Person | undefined): InteractionResponse {
    if (!person) return { type: 8, data: { choices: [] } };
    let typed: string | undefined;
    try {
      typed = parseCommand(i.data).server;
    } catch {
      // An unknown command's option: no choices to offer (the command itself is refused when sent).
      return { type: 8, data: { choices: [] } };
    }
    return { type: 8, data: { choices: serverChoices(this.ids(), typed) } };
  }

  private command(i: CommandInteraction, person: Person): InteractionResponse {
    const { sub, server: given } = parseCommand(i.data);
    const now = this.d.clock();
    if (sub === 'status' && given === undefined) {
      const cards = this.ids().map((id) => cardFor(this.d.controller, id, person.identity, undefined, now));
      return { type: 4, data: cards.length === 1 ? cards[0]! : statusCards(cards) };
    }
    const choice = chooseServer(this.ids(), given);
    if ('problem' in choice) return { type: 4, data: ephemeral(choice.problem) };
    if (sub === 'status') return { type: 4, data: cardFor(this.d.controller, choice.server, person.identity, undefined, now) };
    const refused = this.act(sub, choice.server, person, { actor: person.identity, source: 'discord', detail: `/ood ${sub}` }, {
      interactionId: i.id,
      applicationId: i.application_id,
      token: i.token,
      server: choice.server,
      identity: person.identity,
      messageId: null,
      now,
    });
    return { type: 4, data: refused ?? cardFor(this.d.controller, choice.server, person.identity, undefined, now) };
  }

  /** A press on a card's button: checked again against the person pressing, who need not be the one who asked. */
  private button(i: ComponentInteraction, person: Person): InteractionResponse {
    const pressed = parseCustomId(i.data.custom_id);
    if (!pressed || !this.d.controller.has(pressed.server)) return { type: 4, data: ephemeral('That button is from an older card; ask for a new one with /ood status.') };
    const now = this.d.clock();
    const refused = this.act(pressed.action, pressed.server, person, { actor: person.identity, source: 'discord', detail: `the ${pressed.action} button` }, {
      interactionId: i.id,
      applicationId: i.application_id,
      token: i.token,
      server: pressed.server,
      identity: person.identity,
      messageId: i.message.id,
      originalInteractionId: i.message.interaction_metadata?.id ?? null,
      now,
    });
    // A refusal is the presser's alone (ephemeral, a new message); the card stays as the others see it.
    if (refused) return { type: 4, data: refused };
    return { type: 7, data: cardFor(this.d.controller, pressed.server, person.identity, undefined, now) };
  }

  /** Does what was asked, or says why not (ephemeral). Starts and stops track their message in want's transaction. */
  private act(action: ButtonAction, server: string, person: Person, who: Request, track: TrackRequest): MessageData | undefined {
    const permission = PERMISSION[action];
    if (!may(person, permission)) return notAllowed(permission);
    const c = this.d.controller;
    try {
      if (action === 'keepalive') {
        const phase = c.view(server).state.phase;
        if (phase !== 'running') return ephemeral(`${server} is not running (it is ${phase}); keep alive applies to a running server.`);
        c.keepAlive(server, who);
      } else {
        const tracker = this.d.track;
        c.want(server, action === 'start' ? 'up' : 'down', who, tracker ? { inTransaction: () => tracker(track) } : {});
      }
    } catch (err) {
      // Discord has no "start anyway": an admin does that from the page or with `ood start --override-budget`.
      if (err instanceof BudgetError) return ephemeral(`${err.message} (From the web page, or with \`ood start --override-budget\`.)`);
      if (REFUSALS.some((E) => err instanceof E)) return ephemeral((err as Error).message);
      throw err;
    }
    return undefined;
  }

  private notListed(identity: string): MessageData {
    const now = this.d.clock();
    const last = this.unlistedLogged.get(identity);
    if (last === undefined || now - last >= LOG_UNLISTED_EVERY_MS) {
      if (this.unlistedLogged.size >= 1000) this.unlistedLogged.clear();
      this.unlistedLogged.set(identity, now);
      this.d.log.info({ identity }, `Refused a Discord command from ${identity}, who is not on the list of people`);
    }
    const admins = this.d.controller.store.people.admins().map((a) => a.name ?? a.identity);
    return notListed(identity, admins, this.d.origin);
  }

  private ids(): string[] {
    return this.d.controller.config.servers.map((s) => s.id);
  }
}
