import type { CommandData } from './interaction-schema.js';

/** The `/ood` subcommands (their registered definition is command-definitions.ts). */
export type Subcommand = 'status' | 'start' | 'stop' | 'keepalive';
const SUBCOMMANDS: readonly Subcommand[] = ['status', 'start', 'stop', 'keepalive'];

/** A command OoD does not know (an old registration, another application's command): said plainly, never guessed at. */
export class UnknownCommandError extends Error {
  constructor(what: string) {
    super(`OoD has no command ${what}; the commands are /ood status, /ood start, /ood stop and /ood keepalive (an admin can run \`ood discord register\` to bring Discord's list up to date).`);
    this.name = 'UnknownCommandError';
  }
}

export interface ParsedCommand {
  sub: Subcommand;
  /** The `server` option as given (trimmed), when given. */
  server: string | undefined;
  /** Autocomplete: the `server` option is the one being typed. */
  focused: boolean;
}

/** Reads `/ood <sub> [server]` from an interaction's data; throws UnknownCommandError for anything else. */
export function parseCommand(data: CommandData): ParsedCommand {
  if (data.name !== 'ood') throw new UnknownCommandError(`/${data.name}`);
  const option = data.options?.[0];
  const sub = SUBCOMMANDS.find((s) => s === option?.name);
  if (!option || !sub) throw new UnknownCommandError(`/ood ${option?.name ?? ''}`.trim());
  const server = option.options?.find((o) => o.name === 'server');
  const value = server?.value.trim();
  return { sub, server: value === '' ? undefined : value, focused: server?.focused === true };
}

/** Which server a command means, or why it cannot tell (the words go back to the person who asked). */
export type ServerChoice = { server: string } | { problem: string };

/**
 * The server rule: a named server must exist; with none named, the only one there is; with several,
 * the person is asked to say which.
 */
export function chooseServer(ids: readonly string[], given: string | undefined): ServerChoice {
  if (given !== undefined) {
    const id = given.toLowerCase();
    if (ids.includes(id)) return { server: id };
    return { problem: `There is no server "${given}" here; the servers are ${ids.join(', ')}.` };
  }
  if (ids.length === 1) return { server: ids[0]! };
  return { problem: `Say which server: ${ids.join(', ')}.` };
}

/** Discord shows at most 25 choices, each name at most 100 characters. */
const MAX_CHOICES = 25;

/** Autocomplete: the servers whose id begins with what was typed first, then those that contain it. */
export function serverChoices(ids: readonly string[], typed: string | undefined): { name: string; value: string }[] {
  const q = (typed ?? '').trim().toLowerCase();
  const starts = ids.filter((id) => id.startsWith(q));
  const contains = ids.filter((id) => !id.startsWith(q) && id.includes(q));
  return [...starts, ...contains].slice(0, MAX_CHOICES).map((id) => ({ name: id.slice(0, 100), value: id }));
}
