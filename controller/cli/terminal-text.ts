/**
 * Text from the game made safe to print on a terminal: an escape sequence in a log line or an answer
 * (a plugin's colours, or a player's name built to move the cursor) would otherwise act on the reader's
 * terminal. Minecraft's own `§x` formatting codes go; other control characters become U+FFFD, except
 * tabs, and line breaks where a multi-line answer (`help`) needs them.
 */
export function terminalText(text: string, options: { keepLineBreaks?: boolean } = {}): string {
  const withoutCodes = text.replace(/§[0-9a-fk-orx]/gi, '');
  const control = options.keepLineBreaks ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g : /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
  return (options.keepLineBreaks ? withoutCodes.replace(/\r\n?/g, '\n') : withoutCodes).replace(control, '\uFFFD');
}
