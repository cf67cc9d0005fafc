import Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import { HttpError } from '../api/http-error.js';
import type { Controller } from '../controller.js';
import type { Logger } from '../log.js';
import { rateLimit } from '../web/rate-limit.js';
import { ephemeral } from './card.js';
import { UnknownCommandError } from './commands.js';
import { interactionSchema, identityOf, type Interaction } from './interaction-schema.js';
import { InteractionHandler } from './interactions.js';
import { DiscordVerifier } from './verify.js';

export interface DiscordRouteOptions {
  log: Logger;
  /** Where people open OoD (publicUrl, else the listen address). */
  origin: string;
  clock?: () => number;
  /** How many callers the rate limits keep apart at once (tests make it small). */
  limitKeys?: number;
}

/** Discord's interactions are a few KiB; anything near this is not Discord's. */
export const MAX_BODY_BYTES = 256 * 1024;

/** What Discord's endpoint check expects a refused signature to say, with a 401. */
const BAD_SIGNATURE = 'invalid request signature';
const SIGNATURE_SHAPE = /^[0-9a-f]{128}$/i;
const TIMESTAMP_SHAPE = /^\d{1,12}$/;

/**
 * `POST /discord/interactions`: Discord's slash commands, buttons and autocomplete over HTTP (issue 21).
 * Without `discord` in the config the route is not there (404).
 *
 * The order is the safety: the raw body (capped) is verified before anything reads it, so an unsigned
 * request costs one signature check and is never parsed, limited or logged as a person's; only then
 * is it parsed (400), limited per identity, and answered.
 */
export function discordRoutes(controller: Controller, options: DiscordRouteOptions): Router {
  const router = new Router();
  const discord = controller.config.discord;
  if (!discord) return router;
  const clock = options.clock ?? Date.now;
  const verifier = new DiscordVerifier(discord.publicKey, clock);
  const followups = controller.discordFollowups;
  const handler = new InteractionHandler({ controller, origin: options.origin, track: followups ? (r) => followups.track(r) : undefined, clock, log: options.log });
  // Limited per listed person; everyone not on the list shares one bucket. Keyed by any Discord account,
  // 10,000 strangers (accounts cost nothing) would fill the limiter's keys and every listed person's
  // next command would be turned away; strangers can only be told to ask an admin anyway.
  const identity = (ctx: Koa.Context) => {
    const who = String(ctx.state.discordIdentity);
    return controller.store.people.get(who) ? who : 'not listed';
  };
  // Commands and presses as the web's Start and Stop buttons (20 a minute); autocomplete asks at every pause in typing.
  const limitKeys = options.limitKeys ?? 10_000;
  const actionLimit = rateLimit({ name: 'discord-actions', max: 20, durationMs: 60_000, maxKeys: limitKeys, key: identity, message: 'Too many OoD commands in a minute; wait a moment and try again.' });
  const typingLimit = rateLimit({ name: 'discord-autocomplete', max: 120, durationMs: 60_000, maxKeys: limitKeys, key: identity, message: 'Too many lookups in a minute.' });

  router.post(
    '/discord/interactions',
    async (ctx, next) => {
      // Unsigned or malformed headers: no body can make them valid, so none is read (or waited for).
      if (!SIGNATURE_SHAPE.test(ctx.get('x-signature-ed25519')) || !TIMESTAMP_SHAPE.test(ctx.get('x-signature-timestamp'))) throw new HttpError(401, BAD_SIGNATURE);
      const raw = await readBody(ctx.req, MAX_BODY_BYTES);
      const verdict = verifier.check(ctx.get('x-signature-ed25519') || undefined, ctx.get('x-signature-timestamp') || undefined, raw);
      if (verdict === 'stale') {
        // A controller whose clock is off refuses everything: the skew says so.
        const skewSeconds = Math.round(clock() / 1000 - Number(ctx.get('x-signature-timestamp')));
        options.log.warn({ skewSeconds }, `Refused a Discord interaction signed ${skewSeconds} s from this machine's clock (more than 5 min); check the clock (NTP) if this repeats`);
      }
      if (verdict !== 'ok') throw new HttpError(401, BAD_SIGNATURE);
      const interaction = parseInteraction(raw);
      // A start or stop already acted on (its message tracked), played again after a restart emptied the verifier's memory.
      if (followups?.has(interaction.id)) throw new HttpError(401, BAD_SIGNATURE);
      if (interaction.application_id !== discord.applicationId) throw new HttpError(400, `this interaction is for the application ${interaction.application_id}, and OoD is set up for ${discord.applicationId} (discord.applicationId)`);
      ctx.state.discordInteraction = interaction;
      if (interaction.type !== 1) ctx.state.discordIdentity = identityOf(interaction) ?? 'unknown';
      await next();
    },
    async (ctx, next) => {
      const interaction = ctx.state.discordInteraction as Interaction;
      if (interaction.type === 1) return next();
      try {
        await (interaction.type === 4 ? typingLimit : actionLimit)(ctx, next);
      } catch (err) {
        if ((err as { status?: number }).status !== 429) throw err;
        // Discord shows a non-200 answer as "The application did not respond": the person is told why instead.
        ctx.status = 200;
        ctx.body = interaction.type === 4 ? { type: 8, data: { choices: [] } } : { type: 4, data: ephemeral((err as Error).message) };
      }
    },
    (ctx) => {
      const interaction = ctx.state.discordInteraction as Interaction;
      try {
        ctx.body = handler.answer(interaction);
      } catch (err) {
        if (!(err instanceof UnknownCommandError)) throw err;
        ctx.body = interaction.type === 4 ? { type: 8, data: { choices: [] } } : { type: 4, data: ephemeral(err.message) };
      }
    },
  );
  return router;
}

function parseInteraction(raw: Buffer): Interaction {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the interaction is not JSON');
  }
  const parsed = interactionSchema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, `not an interaction OoD understands: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return parsed.data;
}

/** The raw body, as signed: no parser may touch it first. Past `max` bytes the request is refused (413) without reading the rest. */
async function readBody(req: Koa.Context['req'], max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw new HttpError(413, `an interaction is at most ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HttpError(413, `an interaction is at most ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
