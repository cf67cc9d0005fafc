import { ConsoleCommandError } from './console-errors.js';

/** The largest RCON request payload vanilla accepts (its packet limit 1460 minus the header). */
export const MAX_COMMAND_BYTES = 1446;

/**
 * The command as RCON will carry it: trimmed, one leading `/` dropped (people type it as in chat). An
 * empty command, a control character (a line break would smuggle a second command into some servers'
 * logs) or more than MAX_COMMAND_BYTES is refused with the reason.
 */
export function checkCommand(text: string): string {
  const command = text.trim().replace(/^\//, '');
  if (command === '') throw new ConsoleCommandError('the command is empty');
   
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(command);
  if (control) throw new ConsoleCommandError(`the command has a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) at position ${control.index + 1}; send one line of text`);
  const bytes = Buffer.byteLength(command, 'utf8');
  if (bytes > MAX_COMMAND_BYTES) throw new ConsoleCommandError(`the command is ${bytes} bytes long; the game's console takes at most ${MAX_COMMAND_BYTES} bytes (UTF-8)`);
  return command;
}
