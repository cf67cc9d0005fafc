import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DISCORD_USER_AGENT, OOD_VERSION } from './user-agent.js';

describe("the User-Agent sent to Discord's API", () => {
  it("has Discord's required form and package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(OOD_VERSION).toBe(pkg.version);
    expect(DISCORD_USER_AGENT).toMatch(/^DiscordBot \(https:\/\/\S+, \d+\.\d+\.\d+\)$/);
  });
});
