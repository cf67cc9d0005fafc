import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.js';
import { COMMAND_DEFINITIONS, OOD_COMMAND, SUBCOMMANDS, type CommandOption } from './command-definitions.js';
import type { CommandData } from './interaction-schema.js';

// Discord refuses the whole bulk overwrite (400, Invalid Form Body) when one name or description breaks
// its limits: https://discord.com/developers/docs/interactions/application-commands#application-command-object
// (names ^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$ and lower case for CHAT_INPUT, descriptions 1-100,
// at most 25 options, a SUB_COMMAND's options at most 25, autocomplete never with choices).
const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function problems(where: string, o: { name: string; description: string; options?: CommandOption[] } & Partial<CommandOption>): string[] {
  const found: string[] = [];
  if (!NAME.test(o.name) || o.name !== o.name.toLowerCase()) found.push(`${where}: name "${o.name}"`);
  if (o.description.length < 1 || o.description.length > 100) found.push(`${where}: description of ${o.description.length} characters`);
  if ((o.options?.length ?? 0) > 25) found.push(`${where}: ${o.options?.length} options`);
  if (o.autocomplete && 'choices' in o) found.push(`${where}: autocomplete with choices`);
  if (o.max_length !== undefined && (o.max_length < 1 || o.max_length > 6000)) found.push(`${where}: max_length ${o.max_length}`);
  const names = (o.options ?? []).map((c) => c.name);
  if (new Set(names).size !== names.length) found.push(`${where}: options named twice`);
  // Required options come first (Discord refuses a required option after an optional one).
  const firstOptional = (o.options ?? []).findIndex((c) => !c.required);
  if (firstOptional >= 0 && (o.options ?? []).slice(firstOptional).some((c) => c.required)) found.push(`${where}: required after optional`);
  for (const child of o.options ?? []) found.push(...problems(`${where} ${child.name}`, child));
  return found;
}

describe('the /ood command definition', () => {
  it("keeps within Discord's documented limits", () => {
    expect(COMMAND_DEFINITIONS.flatMap((c) => problems(`/${c.name}`, c))).toEqual([]);
    // The whole command's name, description and every option's name and description: at most 4000 characters.
    const chars = (o: { name: string; description: string; options?: CommandOption[] }): number =>
      o.name.length + o.description.length + (o.options ?? []).reduce((n, c) => n + chars(c), 0);
    expect(chars(OOD_COMMAND)).toBeLessThanOrEqual(4000);
  });

  it('has status, start, stop and keepalive; all but status take an autocompleted, optional server', () => {
    expect(OOD_COMMAND).toMatchObject({ name: 'ood', type: 1, contexts: [0], integration_types: [0] });
    expect(OOD_COMMAND.options.map((o) => [o.type, o.name])).toEqual(SUBCOMMANDS.map((s) => [1, s]));
    const [status, ...actions] = OOD_COMMAND.options;
    expect(status?.options).toBeUndefined();
    for (const action of actions) {
      expect(action.options).toEqual([expect.objectContaining({ type: 3, name: 'server', required: false, autocomplete: true, max_length: 31 })]);
    }
  });

  it('is plain JSON, as the PUT body sends it', () => {
    expect(JSON.parse(JSON.stringify(COMMAND_DEFINITIONS))).toEqual(COMMAND_DEFINITIONS);
  });

  it('registers only what the endpoint understands: each subcommand, sent back as Discord sends it, parses', () => {
    for (const sub of OOD_COMMAND.options) {
      const options = (sub.options ?? []).map((o) => ({ type: o.type, name: o.name, value: 'world' }));
      const data = { id: '1', name: OOD_COMMAND.name, type: 1, options: [{ type: sub.type, name: sub.name, options }] } as unknown as CommandData;
      expect(parseCommand(data)).toMatchObject({ sub: sub.name, server: options.length ? 'world' : undefined });
    }
  });
});
