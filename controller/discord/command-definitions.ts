/**
 * The `/ood` slash command as `ood discord register` puts it in place: the JSON body of Discord's bulk
 * overwrite (https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-global-application-commands).
 * One command with four subcommands, so everything OoD adds sits under one name in a guild's command list.
 */

/** Discord's application command option types this command uses. */
export const OptionType = { SUB_COMMAND: 1, STRING: 3 } as const;

/** The subcommands, in the order Discord lists them. */
export const SUBCOMMANDS = ['status', 'start', 'stop', 'keepalive'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export const COMMAND_NAME = 'ood';
/** The one option of start, stop and keepalive; its value is a server id, so no longer than one (schema.ts: 31). */
export const SERVER_OPTION = 'server';
const SERVER_ID_MAX = 31;

export interface CommandOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  autocomplete?: boolean;
  max_length?: number;
  options?: CommandOption[];
}

export interface CommandDefinition {
  name: string;
  /** 1: CHAT_INPUT, a slash command. */
  type: 1;
  description: string;
  /** Where it can be used: 0 GUILD only (a friend group's server; DMs have no guild to name in the audit log). */
  contexts: number[];
  /** 0 GUILD_INSTALL: installed to a guild, not to a user's account. */
  integration_types: number[];
  options: CommandOption[];
}

const serverOption = (verb: string): CommandOption => ({
  type: OptionType.STRING,
  name: SERVER_OPTION,
  description: `Which server to ${verb} (optional when there is only one)`,
  required: false,
  // Autocomplete and `choices` exclude each other: the names come from OoD as the user types.
  autocomplete: true,
  max_length: SERVER_ID_MAX,
});

const DESCRIPTIONS: Record<Subcommand, string> = {
  status: "Phase, address, players, time to ready and this month's cost",
  start: 'Start a server; the answer follows it until it runs',
  stop: 'Stop a server now (its world is kept)',
  keepalive: 'Keep a running server up longer although nobody plays',
};

const VERBS: Record<Exclude<Subcommand, 'status'>, string> = { start: 'start', stop: 'stop', keepalive: 'keep alive' };

export const OOD_COMMAND: CommandDefinition = {
  name: COMMAND_NAME,
  type: 1,
  description: "Run OoD's Minecraft servers",
  contexts: [0],
  integration_types: [0],
  options: SUBCOMMANDS.map((sub) => ({
    type: OptionType.SUB_COMMAND,
    name: sub,
    description: DESCRIPTIONS[sub],
    ...(sub === 'status' ? {} : { options: [serverOption(VERBS[sub])] }),
  })),
};

/** Every command OoD registers: the whole list a bulk overwrite sends (anything else in the scope is removed). */
export const COMMAND_DEFINITIONS: readonly CommandDefinition[] = [OOD_COMMAND];
