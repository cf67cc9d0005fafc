import { describe, expect, it } from 'vitest';
import { checkCommand, MAX_COMMAND_BYTES } from './command-check.js';
import { ConsoleCommandError } from './console-errors.js';

describe('checkCommand', () => {
  it('trims and drops one leading slash', () => {
    expect(checkCommand('  /say hello ')).toBe('say hello');
    expect(checkCommand('//say hi')).toBe('/say hi');
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    expect(checkCommand('say ' + 'a'.repeat(MAX_COMMAND_BYTES - 4))).toHaveLength(MAX_COMMAND_BYTES);
    // 'é' is two bytes: 722 of them are 1444 characters fewer than the limit but 1448 bytes.
    expect(() => checkCommand('say ' + 'é'.repeat(722))).toThrow(/1448 bytes long; the game's console takes at most 1446 bytes/);
  });

  it('refuses line breaks of every kind, with where', () => {
    for (const [text, code] of [
      ['say a\nop me', '000A'],
      ['say a\u0000', '0000'],
      ['say a\u0085op me', '0085'],
      ['say a\u2028op me', '2028'],
      ['say \u001b[31mred', '001B'],
    ] as const) {
      expect(() => checkCommand(text)).toThrow(new RegExp(`U\\+${code}`));
    }
  });

  it('refuses stop in any spelling, saying what to use instead; a word that only begins with stop passes', () => {
    for (const text of ['stop', '/stop', 'STOP', 'minecraft:stop', 'stop now']) {
      expect(() => checkCommand(text), text).toThrow(ConsoleCommandError);
      expect(() => checkCommand(text)).toThrow(/ood stop <server>/);
    }
    expect(checkCommand('stopsound @a')).toBe('stopsound @a');
  });

  it('refuses an empty command', () => {
    expect(() => checkCommand('  / ')).toThrow(/the command is empty/);
  });
});
