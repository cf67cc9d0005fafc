import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { closest } from './issues.js';
import { parseConfig } from './load.js';

const problems = (data: unknown) => {
  try {
    parseConfig(data, '/base');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected the config to be refused');
};

describe('config errors that lead to the fix', () => {
  it('suggests the nearest known key of the same object, and nothing when none is near', () => {
    expect(problems({ servers: [{ id: 'a', idel: {} }] })).toContain('servers[0]: unknown key "idel"; did you mean "idle"?');
    expect(problems({ servers: [{ id: 'a', idle: { emptyafter: '5m' } }] })).toContain('servers[0].idle: unknown key "emptyafter"; did you mean "emptyAfter"?');
    expect(problems({ lisen: { port: 1 }, servers: [{ id: 'a' }] })).toContain('(top level): unknown key "lisen"; did you mean "listen"?');
    expect(problems({ web: { providers: { oidc: [{ name: 'kc', clientId: 'x', isuer: 'https://id.example.com' }] } }, servers: [{ id: 'a' }] })).toContain('did you mean "issuer"?');
    const far = problems({ servers: [{ id: 'a', colour: 'blue' }] });
    expect(far).toContain('servers[0]: unknown key "colour"');
    expect(far).not.toContain('did you mean');
  });

  it('a bare number where a duration goes says how to write one', () => {
    const message = problems({ servers: [{ id: 'a', idle: { emptyAfter: 5 }, deadlines: { booting: 300 } }] });
    expect(message).toContain('servers[0].idle.emptyAfter: got the number 5; write a duration such as 15m or 90s');
    expect(message).toContain('servers[0].deadlines.booting: got the number 300; write a duration such as 15m or 90s');
    expect(message).not.toContain('expected string');
  });

  it('closest() takes the nearest within a third of the word, else none', () => {
    expect(closest('wakrs', ['wakers', 'wakeFrom', 'mode'])).toBe('wakers');
    expect(closest('PORT', ['port', 'rconPort'])).toBe('port');
    expect(closest('xyz', ['port', 'rconPort'])).toBeUndefined();
  });
});
