import { messageOf } from '../errors.js';
import { DISCORD_USER_AGENT } from './user-agent.js';
import type { Logger } from '../log.js';
import type { Route } from '../notify/delivery.js';
import { OutboxRepo, type OutboxRow } from '../notify/outbox.js';
import type { PhaseMove, RunnerEvents } from '../reconcile/runner-events.js';
import type { Db } from '../store/db.js';

/** What an edit puts in a Discord message: a card's embeds and buttons (controller/discord/card.ts builds them). */
export interface DiscordCard {
  embeds: unknown[];
  components: unknown[];
}

/** Builds the card of a message after a phase move; `identity` is who invoked it (their permissions pick the buttons). */
export type RenderCard = (input: { server: string; identity: string; move: PhaseMove }) => DiscordCard;

/** One message to keep up to date, from a `/ood start`, `/ood stop` or a button press. */
export interface TrackRequest {
  interactionId: string;
  applicationId: string;
  /** The interaction's webhook token (valid 15 min): the secret in the edit's URL. */
  token: string;
  server: string;
  /** Who invoked it: `discord:<user id>`. */
  identity: string;
  /** The message a button was pressed on (`message.id`); null for a slash command's own answer. */
  messageId: string | null;
  /** For a button press: the interaction that made the message (`message.interaction_metadata.id`), whose row this press replaces. */
  originalInteractionId?: string | null;
  now: number;
}

/** The outbox target of one message's edits. */
export const EDIT_TARGET_PREFIX = 'discord-edit:';
export type EditTarget = `discord-edit:${string}`;

export function editTarget(interactionId: string): EditTarget {
  return `${EDIT_TARGET_PREFIX}${interactionId}`;
}

/**
 * Discord's interaction token lasts 15 min (https://discord.com/developers/docs/interactions/receiving-and-responding);
 * edits stop half a minute before, so none is sent with a token about to lapse in flight.
 */
export const TRACK_FOR_MS = 14.5 * 60_000;

/**
 * Discord creates the message from our HTTP answer; an edit that overtook it would meet a 404 and be
 * given up for good (a 404 webhook must not be tried again). The first edit waits this long after the interaction.
 */
export const FIRST_EDIT_AFTER_MS = 1_000;

/**
 * Messages of one server kept up to date at once; a newer one retires the oldest (it keeps its last card,
 * and edits already queued for it still go). Every listed person may ask 20 times a minute and each move
 * queues one edit per open message, ahead of the group's own notifications in the outbox.
 */
export const MAX_OPEN_PER_SERVER = 25;

/** Rows done (or replaced, or expired) are kept this long for people reading the table, then deleted by the minute sweep. */
const KEEP_CLOSED_MS = 24 * 60 * 60_000;

export const TOKEN_EXPIRED = "the interaction's 15 min token expired";
const NOT_TRACKED = 'the message is no longer tracked (a newer press took it over, or its row was pruned)';
export const MESSAGE_GONE = 'Discord answered 404 for this message before (deleted, or its webhook gone); it is not tried again';

interface MessageRow {
  interaction_id: string;
  server: string;
  application_id: string;
  token: string;
  identity: string;
  message_id: string | null;
  created_at: number;
  expires_at: number;
  last_card: string | null;
  done_at: number | null;
}

export interface DiscordFollowupsOptions {
  db: Db;
  /** Discord's API root without a trailing slash (OOD_DISCORD_API_URL; https://discord.com/api/v10). */
  apiUrl: string;
  render: RenderCard;
  /** Whether a server is still wanted up (an `archived` with a start waiting is not the end of a start's story). */
  wantedUp: (server: string) => boolean;
  /** Tells the delivery worker something was enqueued (it looks after the commit). */
  wake: () => void;
  log: Logger;
}

/**
 * The Discord messages OoD edits as a start or stop moves (issue 21). A message is tracked in the
 * transaction of the `want` it asked for, and each phase move writes its edit to the outbox in the
 * loop's own transaction: a kill -9 loses no edit, and the outbox's claim-before-send gives up a
 * half-sent one rather than send it twice. The edits of one message go out one at a time, in order
 * (one outbox target per message).
 */
export class DiscordFollowups {
  readonly events: RunnerEvents;
  private readonly outbox: OutboxRepo;
  private readonly log: Logger;

  constructor(private readonly o: DiscordFollowupsOptions) {
    this.outbox = new OutboxRepo(o.db);
    this.log = o.log.child({ component: 'discord' });
    this.events = { moved: (move) => this.moved(move) };
  }

  /**
   * Starts tracking a message. Call inside `want`'s transaction (its `inTransaction` option), so the
   * first move cannot come between the change and the row. A press on a message replaces the rows that
   * edited it before: their token is blanked and their waiting edits are given up.
   */
  track(r: TrackRequest): void {
    const { db } = this.o;
    if (r.messageId !== null || r.originalInteractionId) {
      db.prepare(
        "UPDATE discord_messages SET done_at = COALESCE(done_at, ?), token = '' WHERE interaction_id <> ? AND ((message_id IS NOT NULL AND message_id = ?) OR interaction_id = ?)",
      ).run(r.now, r.interactionId, r.messageId, r.originalInteractionId ?? null);
    }
    db.prepare(
      `INSERT INTO discord_messages (interaction_id, server, application_id, token, identity, message_id, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (interaction_id) DO NOTHING`,
    ).run(r.interactionId, r.server, r.applicationId, r.token, r.identity, r.messageId, r.now, r.now + TRACK_FOR_MS);
    db.prepare(
      `UPDATE discord_messages SET done_at = ? WHERE server = ? AND done_at IS NULL AND interaction_id NOT IN (
         SELECT interaction_id FROM discord_messages WHERE server = ? AND done_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
    ).run(r.now, r.server, r.server, MAX_OPEN_PER_SERVER);
  }

  /** Whether an interaction is tracked already: Discord sends each once, so a second is a replay (the verifier's memory does not outlive a restart). */
  has(interactionId: string): boolean {
    return this.o.db.prepare('SELECT 1 FROM discord_messages WHERE interaction_id = ?').get(interactionId) !== undefined;
  }

  /**
   * Where one edit goes: the interaction's `@original` message, by PATCH, without Authorization (the
   * token in the path is the credential). An edit whose row expired or was replaced is given up.
   */
  resolve(row: OutboxRow, now: number): Route {
    const interactionId = row.target.slice(EDIT_TARGET_PREFIX.length);
    const m = this.o.db.prepare('SELECT application_id, token, expires_at FROM discord_messages WHERE interaction_id = ?').get(interactionId) as
      | Pick<MessageRow, 'application_id' | 'token' | 'expires_at'>
      | undefined;
    if (!m || m.token === '') return { giveUp: NOT_TRACKED };
    if (m.expires_at <= now) return { giveUp: TOKEN_EXPIRED };
    // Discord: a webhook that answered 404 must not be tried again (each try counts toward its ban on invalid requests).
    const gone = this.o.db.prepare("SELECT 1 FROM outbox WHERE target = ? AND given_up_at IS NOT NULL AND last_error IN ('answered HTTP 404', ?) LIMIT 1").get(row.target, MESSAGE_GONE);
    if (gone) return { giveUp: MESSAGE_GONE };
    return { method: 'PATCH', url: `${this.o.apiUrl}/webhooks/${encodeURIComponent(m.application_id)}/${encodeURIComponent(m.token)}/messages/@original`, userAgent: DISCORD_USER_AGENT };
  }

  /**
   * At start-up, before the delivery worker gives up what a kill left half-sent: a message whose newest
   * edit was cut off mid-send gets that edit again as a new row (same card, its own key).
   *
   * §6 "at most once versus the final edit": an outbox row is never sent twice, but a PATCH of a
   * message to the same card is idempotent in Discord (the message is replaced, nothing is posted), so
   * repeating the cut-off *content* through a new row shows people nothing twice, while giving it up
   * would leave a message saying "starting" forever when the final edit was the one cut off. Only the
   * newest edit of a message is repeated (an older one is overtaken by its successors anyway), and only
   * while the token lives.
   */
  resync(now: number): number {
    const cut = this.o.db
      .prepare(
        `SELECT o.id, o.target, o.payload, m.server FROM outbox o JOIN discord_messages m ON o.target = 'discord-edit:' || m.interaction_id
         WHERE o.sending_since IS NOT NULL AND o.delivered_at IS NULL AND o.given_up_at IS NULL AND m.token <> '' AND m.expires_at > ?
           AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.target = o.target AND n.id > o.id)`,
      )
      .all(now) as { id: number; target: EditTarget; payload: string; server: string }[];
    for (const c of cut) this.outbox.enqueue(`${c.server}:resync:${c.id}`, c.target, c.payload, now);
    if (cut.length > 0) this.log.warn({ messages: cut.length }, 'Queued again the Discord edits a stop of the controller cut off mid-send (an edit to the same card shows nothing twice)');
    return cut.length;
  }

  /**
   * The minute sweep: blanks the token of rows done with nothing left to send, or expired, and deletes
   * closed rows a day old. Returns how many rows changed.
   */
  prune(now: number): number {
    const { db } = this.o;
    return db.transaction(() => {
      const blanked = db
        .prepare(
          `UPDATE discord_messages SET token = '', done_at = COALESCE(done_at, ?) WHERE token <> '' AND (expires_at <= ? OR (done_at IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM outbox o WHERE o.target = 'discord-edit:' || discord_messages.interaction_id AND o.delivered_at IS NULL AND o.given_up_at IS NULL)))`,
        )
        .run(now, now).changes;
      const deleted = db.prepare("DELETE FROM discord_messages WHERE token = '' AND done_at < ?").run(now - KEEP_CLOSED_MS).changes;
      return blanked + deleted;
    })();
  }

  /** Inside the loop's transaction: one edit per open message of the server whose card changed. */
  private moved(move: PhaseMove): void {
    const { db } = this.o;
    const inTransaction = db.inTransaction;
    let queued = 0;
    try {
      const rows = db.prepare("SELECT * FROM discord_messages WHERE server = ? AND done_at IS NULL AND token <> '' AND expires_at > ?").all(move.server, move.at) as MessageRow[];
      if (rows.length === 0) return;
      const final = move.to === 'running' || move.to === 'failed' || (move.to === 'archived' && !this.o.wantedUp(move.server));
      const update = db.prepare('UPDATE discord_messages SET last_card = ?, done_at = ? WHERE interaction_id = ?');
      for (const row of rows) {
        const card = this.o.render({ server: move.server, identity: row.identity, move });
        const json = JSON.stringify(card);
        if (json !== row.last_card) {
          const payload = JSON.stringify({ ...card, allowed_mentions: { parse: [] } });
          this.outbox.enqueue(`${move.server}:${move.to}:${move.at}`, editTarget(row.interaction_id), payload, move.at, row.created_at + FIRST_EDIT_AFTER_MS);
          queued++;
        }
        update.run(json, final ? move.at : null, row.interaction_id);
      }
    } catch (err) {
      // As the Notifier: an edit never undoes the move it tells of, unless SQLite already rolled it back.
      if (inTransaction && !db.inTransaction) throw err;
      this.log.error({ server: move.server, to: move.to, err: messageOf(err) }, 'Could not queue the Discord edits of a phase move');
      return;
    }
    if (queued > 0) this.o.wake();
  }
}
