import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { formatDuration, parseDuration } from './duration.js';
import type { z } from 'zod';
import { parseConfig } from './load.js';
import { configSchema, snapshotPrefix } from './schema.js';

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

describe('the schema', () => {
  /** Every object schema reachable from `schema`, through wrappers, arrays, unions and pipes. */
  const objects = (schema: z.ZodType, path: string, out: [string, z.ZodType][] = []): [string, z.ZodType][] => {
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'object') {
      out.push([path, schema]);
      for (const [key, child] of Object.entries((schema as z.ZodObject).shape)) objects(child as z.ZodType, `${path}.${key}`, out);
    }
    for (const key of ['innerType', 'in', 'out', 'element']) if (def[key]) objects(def[key] as z.ZodType, path, out);
    if (Array.isArray(def.options)) for (const option of def.options as z.ZodType[]) objects(option, path, out);
    return out;
  };

  it('rejects unknown keys in every object, at every depth', () => {
    const all = objects(configSchema, 'config');
    expect(all.length).toBeGreaterThanOrEqual(9);
    for (const [path, schema] of all) {
      const catchall = (schema._zod.def as { catchall?: z.ZodType }).catchall;
      expect(catchall?._zod.def.type, `${path} must be a strict object`).toBe('never');
    }
  });

  it.each([
    [{ rconPassword: 'hunter2', servers: [{ id: 'a' }] }, '(top level): unknown key "rconPassword"'],
    [{ listen: { port: 8080, tls: true }, servers: [{ id: 'a' }] }, 'listen: unknown key "tls"'],
    [{ log: { level: 'info', format: 'json' }, servers: [{ id: 'a' }] }, 'log: unknown key "format"'],
    [{ reconcile: { tick: '1s' }, servers: [{ id: 'a' }] }, 'reconcile: unknown key "tick"'],
    [{ servers: [{ id: 'a', game: { port: 25565, motd: 'hi' } }] }, 'servers[0].game: unknown key "motd"'],
  ])('names an unknown key: %j', (data, message) => {
    expect(() => parseConfig(data, '/base')).toThrow(message);
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
    [{ servers: [{ id: 'a', game: { port: 8080 } }] }, 'servers[0].game.port: port 8080 is already used by listen.port (the API)'],
    [{ servers: [{ id: 'a', game: { rconPort: 9000 } }], listen: { port: 9000 } }, 'servers[0].game.rconPort: port 9000 is already used by listen.port (the API)'],
    [{ servers: [{ id: 'a', driver: 'digitalocean', digitalocean: { snapshotPrefix: 'ood' } }, { id: 'b', driver: 'digitalocean', digitalocean: { snapshotPrefix: 'ood' } }] }, `servers[1].digitalocean.snapshotPrefix: snapshot prefix "ood" is also servers[0]'s`],
    [{ servers: [{ id: 'a', driver: 'digitalocean', digitalocean: { sshSources: ['everyone'] } }] }, 'servers[0].digitalocean.sshSources[0]: expected an IPv4 or IPv6 address or CIDR block'],
    [{ servers: [{ id: 'a', driver: 'droplet' }] }, 'servers[0].driver:'],
    [{ servers: [{ id: 'a', lobby: { mode: 'wake', proxyProtocol: true } }] }, 'servers[0].lobby.proxyProtocol: lobby.proxyProtocol needs lobby.mode proxy'],
    [{ servers: [{ id: 'a', driver: 'digitalocean', lobby: { mode: 'proxy', publicHost: 'mc.example.com', proxyProtocol: true } }] }, 'servers[0].digitalocean.sshSources: with lobby.proxyProtocol the game trusts the header from whoever reaches its port'],
  ])('%j → %s', (data, message) => {
    expect(() => parseConfig(data, '/base')).toThrow(ConfigError);
    expect(() => parseConfig(data, '/base')).toThrow(message);
  });
});

describe('DigitalOcean servers', () => {
  it('keep their snapshots apart: ood alone, ood-<id> with several', () => {
    const one = parseConfig({ servers: [{ id: 'survival', driver: 'digitalocean' }, { id: 'home' }] }, '/base');
    expect(snapshotPrefix(one.servers, one.servers[0]!)).toBe('ood');
    const two = parseConfig({ servers: [{ id: 'survival', driver: 'digitalocean' }, { id: 'creative', driver: 'digitalocean' }] }, '/base');
    expect(two.servers.map((s) => snapshotPrefix(two.servers, s))).toEqual(['ood-survival', 'ood-creative']);
  });

  it('may share a game port: each has its own droplet', () => {
    expect(() => parseConfig({ servers: [{ id: 'a', driver: 'digitalocean' }, { id: 'b', driver: 'digitalocean' }] }, '/base')).not.toThrow();
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

describe('servers[].backups (copies of the world, issue 19 item 4)', () => {
  it('defaults: every 30m, keep 6, on for digitalocean and off for local', () => {
    const cfg = parseConfig({ servers: [{ id: 'a' }, { id: 'b', driver: 'digitalocean', game: { port: 25566, rconPort: 25576 } }] }, '/base');
    expect(cfg.servers[0]!.backups).toEqual({ every: 30 * 60_000, keep: 6, enabled: false });
    expect(cfg.servers[1]!.backups).toEqual({ every: 30 * 60_000, keep: 6, enabled: true });
    expect(parseConfig({ servers: [{ id: 'a', backups: { enabled: true, every: '1h' } }] }, '/base').servers[0]!.backups).toEqual({ every: 3_600_000, keep: 6, enabled: true });
    expect(parseConfig({ servers: [{ id: 'a', driver: 'digitalocean', backups: { enabled: false } }] }, '/base').servers[0]!.backups.enabled).toBe(false);
  });

  it.each([
    [{ every: 'hourly' }, 'servers[0].backups.every: expected a duration like "15m", got "hourly"'],
    [{ every: '5s' }, 'servers[0].backups.every: expected at least 10s between copies'],
    [{ every: 30 }, 'servers[0].backups.every: got the number 30; write a duration such as 15m or 90s'],
    [{ keep: 0 }, 'servers[0].backups.keep: expected at least 1 copy to keep (turn copies off with enabled: false)'],
    [{ keep: 2.5 }, 'servers[0].backups.keep: expected a whole number of copies to keep'],
    [{ keep: 'six' }, 'servers[0].backups.keep: expected a whole number of copies to keep'],
    [{ enabled: 'yes' }, 'servers[0].backups.enabled: expected true or false'],
    [{ evry: '1h' }, 'servers[0].backups: unknown key "evry"; did you mean "every"?'],
  ])('%j → %s', (backups, message) => {
    expect(() => parseConfig({ servers: [{ id: 'a', backups }] }, '/base')).toThrow(message);
  });
});

describe("README's backups example", () => {
  it('is a valid ood.yaml and means what its comments say', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('backups:'));
    expect(block).toBeDefined();
    const cfg = parseConfig(parse(block!), '/base');
    expect(cfg.servers[0]!.backups).toEqual({ every: 30 * 60_000, keep: 6, enabled: true });
  });
});
