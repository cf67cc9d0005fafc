import { describe, expect, it } from 'vitest';
import { OOD_COMMAND } from './command-definitions.js';
import { covers } from './register.js';

describe('covers: is what Discord holds what we send?', () => {
  // Discord answers a GET with ids, versions and nulls we never sent, and leaves `required: false` out.
  const asDiscordKeepsIt = {
    ...OOD_COMMAND,
    id: '1300000000000000001',
    application_id: '42',
    version: '1300000000000000002',
    default_member_permissions: null,
    nsfw: false,
    name_localizations: null,
    description_localizations: null,
    options: OOD_COMMAND.options.map((o) => ({ ...o, options: o.options?.map(({ required: _required, ...rest }) => rest) })),
  };

  it('matches Discord’s fuller copy of the same command', () => {
    expect(covers(OOD_COMMAND, asDiscordKeepsIt)).toBe(true);
  });

  it('sees a changed description, a missing subcommand and a changed option', () => {
    expect(covers(OOD_COMMAND, { ...asDiscordKeepsIt, description: 'older' })).toBe(false);
    expect(covers(OOD_COMMAND, { ...asDiscordKeepsIt, options: asDiscordKeepsIt.options.slice(1) })).toBe(false);
    const noAutocomplete = asDiscordKeepsIt.options.map((o) => ({ ...o, options: o.options?.map((p) => ({ ...p, autocomplete: false })) }));
    expect(covers(OOD_COMMAND, { ...asDiscordKeepsIt, options: noAutocomplete })).toBe(false);
  });
});
