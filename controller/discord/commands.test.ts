import { describe, expect, it } from 'vitest';
import { chooseServer, parseCommand, serverChoices, UnknownCommandError } from './commands.js';

const data = (sub: string, server?: string, focused = false) => ({
  name: 'ood',
  options: [{ type: 1 as const, name: sub, options: server === undefined ? [] : [{ type: 3 as const, name: 'server', value: server, ...(focused ? { focused } : {}) }] }],
});

describe('parseCommand', () => {
  it('reads the subcommand and the server option as Discord sends them', () => {
    expect(parseCommand(data('status'))).toEqual({ sub: 'status', server: undefined, focused: false });
    expect(parseCommand(data('start', ' survival '))).toEqual({ sub: 'start', server: 'survival', focused: false });
    expect(parseCommand(data('stop', '', true))).toEqual({ sub: 'stop', server: undefined, focused: true });
    expect(parseCommand({ name: 'ood', options: [{ type: 1, name: 'keepalive' }] })).toEqual({ sub: 'keepalive', server: undefined, focused: false });
  });

  it('refuses another command or subcommand by name', () => {
    expect(() => parseCommand({ name: 'other' })).toThrow(UnknownCommandError);
    expect(() => parseCommand(data('delete'))).toThrow(/no command \/ood delete/);
    expect(() => parseCommand({ name: 'ood' })).toThrow(/no command \/ood;/);
  });
});

describe('chooseServer', () => {
  it('takes the only server when none is named, and asks which when there are several', () => {
    expect(chooseServer(['survival'], undefined)).toEqual({ server: 'survival' });
    expect(chooseServer(['a', 'b'], undefined)).toEqual({ problem: 'Say which server: a, b.' });
  });

  it('takes a named server in any case, and names the servers for one that is not there', () => {
    expect(chooseServer(['a', 'b'], 'B')).toEqual({ server: 'b' });
    expect(chooseServer(['a', 'b'], 'c')).toEqual({ problem: 'There is no server "c" here; the servers are a, b.' });
  });
});

describe('serverChoices', () => {
  it('puts servers starting with the text first, then those containing it, at most 25', () => {
    expect(serverChoices(['creative', 'survival', 'sv-old'], 'sv')).toEqual([{ name: 'sv-old', value: 'sv-old' }]);
    expect(serverChoices(['mc-a', 'a-mc', 'b'], 'a').map((c) => c.value)).toEqual(['a-mc', 'mc-a']);
    expect(serverChoices(Array.from({ length: 40 }, (_, i) => `s${i}`), '')).toHaveLength(25);
  });
});
