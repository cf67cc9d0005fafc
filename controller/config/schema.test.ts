import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { formatDuration, parseDuration } from './duration.js';
import { parseConfig } from './load.js';

const example = fileURLToPath(new URL('../../ood.example.yaml', import.meta.url));

describe('ood.example.yaml', () => {
  it('holds exactly the schema defaults, so the two cannot drift', () => {
    const fromExample = parseConfig(parse(readFileSync(example, 'utf8')), '/base');
    const fromDefaults = parseConfig({ servers: [{ id: 'world' }] }, '/base');
    expect(fromExample).toEqual(fromDefaults);
  });

  it('names every key the schema knows (a new key must be documented there)', () => {
    const keys = (value: unknown, prefix = ''): string[] =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...keys(v, `${prefix}${k}.`)])
        : [];
    const defaults = parseConfig({ servers: [{ id: 'world' }] }, '/base');
    const text = readFileSync(example, 'utf8');
    const documented = [...keys(defaults), ...keys(defaults.servers[0], 'servers.')];
    for (const key of documented) expect(text, `ood.example.yaml should mention ${key}`).toMatch(new RegExp(`\\b${key.split('.').at(-1)}:`));
  });
});

describe('config errors', () => {
  it.each([
    [{ servers: [] }, 'servers: expected at least one server'],
    [{ servers: [{ id: 'World!' }] }, 'servers[0].id: expected a server id'],
    [{ servers: [{ id: 'a' }, { id: 'a', game: { port: 25566, rconPort: 25576 } }] }, 'servers[1].id: duplicate server id "a"'],
    [{ servers: [{ id: 'a' }, { id: 'b' }] }, 'servers[1].game.port: port 25565 is already used by servers[0].game.port'],
    [{ servers: [{ id: 'a', idle: { warnings: ['1m', 'later'] } }] }, 'servers[0].idle.warnings[1]: expected a duration like "15m", got "later"'],
    [{ servers: [{ id: 'a' }], listen: { port: 'eighty' } }, 'listen.port:'],
  ])('%j → %s', (data, message) => {
    expect(() => parseConfig(data, '/base')).toThrow(ConfigError);
    expect(() => parseConfig(data, '/base')).toThrow(message);
  });
});

describe('durations', () => {
  it('parse and format', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('15')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_600_000)).toBe('1h');
  });
});
