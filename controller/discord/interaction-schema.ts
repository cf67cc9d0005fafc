import { z } from 'zod';

// The interactions Discord sends (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object).
// Only the fields OoD reads are named; z.object lets the rest through unread, as Discord adds fields
// without notice and a stricter schema would turn its next addition into refusals.

const snowflake = z.string().regex(/^\d{1,20}$/, 'expected a Discord id (a snowflake)');
const user = z.object({ id: snowflake });

/** Fields every interaction carries. */
const common = {
  id: snowflake,
  application_id: snowflake,
  /** The interaction's webhook token: the credential of its follow-up edits (15 min). */
  token: z.string().min(1).max(1000),
  guild_id: snowflake.optional(),
  /** In a guild the caller is `member.user`; in a DM, `user`. */
  member: z.object({ user }).optional(),
  user: user.optional(),
};

/** `server` (a string), possibly the one being typed (autocomplete's `focused`). */
const stringOption = z.object({ type: z.literal(3), name: z.string().max(32), value: z.string().max(100), focused: z.boolean().optional() });

/** `/ood <subcommand>`: the subcommand is the command's one option, its own options inside. */
const subcommand = z.object({ type: z.literal(1), name: z.string().max(32), options: z.array(stringOption).max(25).optional() });

const commandData = z.object({ name: z.string().max(32), options: z.array(subcommand).max(25).optional() });

const ping = z.object({ type: z.literal(1), id: snowflake, application_id: snowflake });

const command = z.object({ type: z.literal(2), ...common, data: commandData });

const component = z.object({
  type: z.literal(3),
  ...common,
  data: z.object({ custom_id: z.string().max(100) }),
  /** The message the button is on; `interaction_metadata.id` is the interaction that made it. */
  message: z.object({ id: snowflake, interaction_metadata: z.object({ id: snowflake }).optional() }),
});

const autocomplete = z.object({ type: z.literal(4), ...common, data: commandData });

export const interactionSchema = z.discriminatedUnion('type', [ping, command, component, autocomplete]);

export type Interaction = z.infer<typeof interactionSchema>;
export type CommandInteraction = z.infer<typeof command>;
export type ComponentInteraction = z.infer<typeof component>;
export type AutocompleteInteraction = z.infer<typeof autocomplete>;
export type CommandData = z.infer<typeof commandData>;

/** Who invoked an interaction: the same `discord:<user id>` the web's Discord login makes (undefined when Discord named nobody). */
export function identityOf(i: Exclude<Interaction, { type: 1 }>): string | undefined {
  const id = i.member?.user.id ?? i.user?.id;
  return id === undefined ? undefined : `discord:${id}`;
}
