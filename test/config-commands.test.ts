import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';

/** `ood config check` says what `ood serve` would say, in words that lead to the fix. */
describe('ood config check', () => {
  let home: OodHome | undefined;
  afterEach(async () => {
    await home?.cleanup();
    home = undefined;
  });
  // No login-provider secrets or webhook URLs from the machine running the tests.
  const clean = { OOD_OAUTH_GITHUB_SECRET: '', OOD_DISCORD_WEBHOOK_URL: '', OOD_WEBHOOK_URL: '' };

  it('refuses what serve refuses: listening beyond this machine with no login provider', async () => {
    home = await makeOodHome();
    writeFileSync(home.configPath, 'listen: { host: 0.0.0.0, port: 0 }\nservers:\n  - id: world\n');
    const check = await ood(['config', 'check', '--config', home.configPath], { env: clean });
    const serve = await ood(['serve', '--config', home.configPath], { env: clean });
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain('Listening on 0.0.0.0');
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('Listening on 0.0.0.0 would put OoD\'s pages beyond this machine');
    // With a provider and its secret both accept it.
    writeFileSync(home.configPath, 'listen: { host: 0.0.0.0, port: 0 }\nweb: { providers: { github: { clientId: abc } } }\nservers:\n  - id: world\n');
    expect((await ood(['config', 'check', '--config', home.configPath], { env: clean })).stderr).toContain('OOD_OAUTH_GITHUB_SECRET');
    const ok = await ood(['config', 'check', '--config', home.configPath], { env: { ...clean, OOD_OAUTH_GITHUB_SECRET: 's3cret' } });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('suggests the key meant, hints at a duration for a bare number, and shows each lobby', async () => {
    home = await makeOodHome();
    writeFileSync(home.configPath, 'servers:\n  - id: world\n    idel: { emptyAfter: 15m }\n');
    const misspelt = await ood(['config', 'check', '--config', home.configPath], { env: clean });
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain('servers[0]: unknown key "idel"; did you mean "idle"?');
    writeFileSync(home.configPath, 'servers:\n  - id: world\n    idle: { emptyAfter: 5, warnings: [60] }\n');
    const bare = await ood(['config', 'check', '--config', home.configPath], { env: clean });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('servers[0].idle.emptyAfter: got the number 5; write a duration such as 15m or 90s');
    expect(bare.stderr).toContain('servers[0].idle.warnings[0]: got the number 60; write a duration such as 15m or 90s');
    expect(bare.stderr).not.toContain('expected string');
    writeFileSync(
      home.configPath,
      'servers:\n  - id: world\n  - id: creative\n    game: { port: 25566, rconPort: 25576 }\n    lobby: { mode: wake, wakers: [Alex, Steve] }\n',
    );
    const lobbies = await ood(['config', 'check', '--config', home.configPath], { env: clean });
    expect(lobbies.code).toBe(0);
    expect(lobbies.stdout).toMatch(/world: local driver[^\n]*\n(\s+[^\n]*\n)*?\s+lobby: off \(nothing answers on port 25565 while the server sleeps\)/);
    expect(lobbies.stdout).toContain('lobby: wake on 0.0.0.0:25566 (joins by Alex, Steve or anyone allowed to start it on the web wake it)');
  });
});
