// The console's refusal of `stop` (issue 21) against the other ways vanilla runs it: `execute ... run`
// runs any command, and RCON runs it at permission level 4. Refusing `stop` is for the careless admin;
// one who types `execute run stop` gets the restart behind the loop's back that the refusal prevents.
import { describe, expect, it } from 'vitest';
import { checkCommand } from './command-check.js';

describe('checkCommand and stop', () => {
  it('refuses stop run through execute, as it refuses stop', () => {
    for (const command of ['execute run stop', 'execute as @p run minecraft:stop', 'minecraft:execute run STOP']) {
      expect(() => checkCommand(command), command).toThrow(/does not take stop/);
    }
  });

  it('still takes commands that only mention stop', () => {
    for (const command of ['say stop', 'execute as @a run say stop', 'stopsound @a']) expect(checkCommand(command)).toBe(command);
  });
});
