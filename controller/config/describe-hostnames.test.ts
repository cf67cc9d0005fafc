import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { describeHostnames } from './describe-hostnames.js';
import { parseConfig } from './load.js';

const server = (id: string, port: number, lobby: Record<string, unknown>) => ({ id, game: { port, rconPort: port + 100 }, lobby: { mode: 'wake', ...lobby } });

describe('describeHostnames', () => {
  it('lists each name and its server, then the default', () => {
    const config = parseConfig(
      { lobby: { listen: '[::]:25565' }, servers: [server('survival', 25570, { hostnames: ['survival.example.com', 'MC.example.com.'] }), server('creative', 25571, { hostnames: ['creative.example.com'], default: true })] },
      '/base',
    );
    expect(describeHostnames(config)).toEqual([
      'shared lobby on [::]:25565:',
      '  survival.example.com  → survival',
      '  mc.example.com        → survival',
      '  creative.example.com  → creative',
      '  any other name → creative (lobby.default)',
    ]);
  });

  it('says unknown names get the list when no server is the default', () => {
    const config = parseConfig({ lobby: { listen: '0.0.0.0:25565' }, servers: [server('survival', 25570, { hostnames: ['survival.example.com'] })] }, '/base');
    expect(describeHostnames(config).at(-1)).toBe('  any other name → the list of names above (status and a disconnect; it wakes nothing)');
  });

  it('says nothing without a shared lobby', () => {
    expect(describeHostnames(parseConfig({ servers: [server('survival', 25570, {})] }, '/base'))).toEqual([]);
  });
});

describe("README's shared lobby example", () => {
  it('is a valid config whose table is the one README shows', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## One address for everything'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const table = /```text\n(\s*shared lobby on[\s\S]*?)```/.exec(section)![1]!;
    const shown = table.trimEnd().split('\n').map((line) => line.replace(/^ {4}/, ''));
    expect(describeHostnames(parseConfig(parse(yaml), '/base'))).toEqual(shown);
  });
});
