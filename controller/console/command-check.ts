import { ConsoleCommandError } from './console-errors.js';

/** The largest RCON request payload vanilla accepts (its packet limit 1460 minus the header). */
export const MAX_COMMAND_BYTES = 1446;

/**
 * Control characters (C0, DEL, C1) and Unicode's line and paragraph separators: a line break would
 * smuggle a second command into some servers' logs and consoles.
 */
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Commands OoD does, which typed into the console would go behind its back. `stop` ends the game while
 * the server is still wanted up: the loop takes that for a crash and starts it again, and nothing is
 * archived. Stop (the page, /ood stop, `ood stop`) saves, snapshots and archives instead.
 */
const OODS_OWN: Record<string, string> = {
  stop: "the console does not take stop: the game would end behind OoD's back and OoD, still wanting the server up, would start it again. Use Stop on the page, /ood stop in Discord or `ood stop <server>`, which save the world and archive it",
};

/**
 * The command as RCON will carry it: trimmed, one leading `/` dropped (people type it as in chat). An
 * empty command, a line-breaking character, more than MAX_COMMAND_BYTES, or one of OoD's own commands
 * is refused with the reason.
 */
export function checkCommand(text: string): string {
  const command = text.trim().replace(/^\//, '');
  if (command === '') throw new ConsoleCommandError('the command is empty');
  const control = LINE_BREAKING.exec(command);
  if (control) throw new ConsoleCommandError(`the command has a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) at position ${control.index + 1}; send one line of text`);
  const bytes = Buffer.byteLength(command, 'utf8');
  if (bytes > MAX_COMMAND_BYTES) throw new ConsoleCommandError(`the command is ${bytes} bytes long; the game's console takes at most ${MAX_COMMAND_BYTES} bytes (UTF-8)`);
  for (const name of commandsRun(command)) {
    const own = OODS_OWN[name];
    if (own) throw new ConsoleCommandError(own);
  }
  return command;
}

/**
 * The names of the commands a line runs: its first word, and with `execute … run <command>` (nested or
 * not) each command after a `run`. Vanilla takes a namespaced name too (`minecraft:stop`), in any case.
 * A function or a command block can still run `stop`; this is for the hand at the console, not a wall.
 */
function commandsRun(command: string): string[] {
  const words = command.split(/\s+/).map((w) => w.toLowerCase().replace(/^minecraft:/, ''));
  const names = [words[0]!];
  if (words[0] === 'execute') words.forEach((word, i) => word === 'run' && words[i + 1] !== undefined && names.push(words[i + 1]!));
  return names;
}
