import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { OodEnv } from '../config/env.js';
import { ConfigError } from '../errors.js';
import { registerCommands, type RegisterResult } from '../discord/register.js';

/**
 * `ood discord register [--guild <id> | --global]`: talks to Discord's HTTP API, not to the controller.
 * The application and default guild come from the config file's `discord` block, the bot token from
 * OOD_DISCORD_BOT_TOKEN, the API from OOD_DISCORD_API_URL.
 */
export function addDiscordCommands(program: Command, deps: { config: () => Config; env: OodEnv }): void {
  const discordCmd = program.command('discord').description('the Discord application behind /ood (slash commands and buttons)');
  discordCmd
    .command('register')
    .description('put /ood status|start|stop|keepalive in place in one guild or globally (bulk overwrite) and say what changed')
    .option('--guild <id>', "register in this guild (commands appear at once); default: discord.guildId when set, else global")
    .option('--global', 'register globally, for every guild the application is in (takes a while to reach clients)')
    .action(async (opts: { guild?: string; global?: boolean }) => {
      const discord = deps.config().discord;
      if (!discord) throw new ConfigError('The config has no discord block: set discord.applicationId and discord.publicKey from the application\'s General Information page (README: "Discord")');
      if (opts.guild !== undefined && opts.global) throw new ConfigError('--guild and --global exclude each other: choose one');
      if (opts.guild !== undefined && !/^\d{1,20}$/.test(opts.guild)) throw new ConfigError(`--guild: expected a guild's id, a number like 1234567890123456789, got "${opts.guild}"`);
      const token = deps.env.discord.botToken;
      if (!token) throw new ConfigError("OOD_DISCORD_BOT_TOKEN is not set: copy the bot token from the application's Bot page into the environment");
      const guildId = opts.global ? undefined : (opts.guild ?? discord.guildId);
      const result = await registerCommands({
        apiUrl: deps.env.discord.apiUrl,
        applicationId: discord.applicationId,
        guildId,
        token,
        say: (line) => void process.stderr.write(`${line}\n`),
      });
      process.stdout.write(registerReport(result));
    });
}

export function registerReport(r: RegisterResult): string {
  const where = r.scope === 'global' ? 'globally (clients may take a while to show changes)' : `in ${r.scope} (shown there at once)`;
  const lines = [`Registered the commands ${where}:`];
  for (const [word, names] of [['added', r.added], ['updated', r.updated], ['removed', r.removed], ['unchanged', r.unchanged]] as const) {
    if (names.length > 0) lines.push(`  ${word}: ${names.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
