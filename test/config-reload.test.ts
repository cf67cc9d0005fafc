import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';
import { waitUntil } from './helpers/wait.js';

/** A changed ood.yaml reaches a running controller by `ood config reload` or SIGHUP, without a restart. */
describe('changing the config of a running controller', () => {
  let home: OodHome | undefined;
  let controller: ControllerProcess | undefined;
  afterEach(async () => {
    await controller?.stop();
    controller = undefined;
    await home?.cleanup();
    home = undefined;
  });

  it('applies idle times live, refuses a port change naming it, and SIGHUP takes the same path', async () => {
    home = await makeOodHome();
    const path = home.configPath;
    type ServerYaml = { idle: Record<string, unknown>; game: Record<string, unknown> };
    const edit = (change: (server: ServerYaml) => void) => {
      const config = parse(readFileSync(path, 'utf8')) as { servers: ServerYaml[] };
      change(config.servers[0]!);
      writeFileSync(path, stringify(config));
    };
    controller = await startControllerProcess(path);
    const api = apiFor(controller.url);
    const cli = (...args: string[]) => ood([...args, '--config', path], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN } });
    await api.start();
    const first = await waitUntil('running with an idle stop time', async () => {
      const s = await api.server();
      return s.phase === 'running' && s.idle.stopsAt !== null ? Date.parse(s.idle.stopsAt) : undefined;
    });

    // Nobody joined, so neverJoined decides when it stops: 1h → 30m moves the stop 30 minutes earlier.
    edit((s) => (s.idle = { ...s.idle, emptyAfter: '20m', neverJoined: '30m' }));
    const reload = await cli('config', 'reload');
    expect(reload.stderr).toBe('');
    expect(reload.code).toBe(0);
    expect(reload.stdout).toContain('Applied: servers[world].idle.emptyAfter, servers[world].idle.neverJoined');
    await waitUntil('the new idle stop time in GET /api/servers/world', async () => {
      const s = await api.server();
      return s.idle.stopsAt !== null && Date.parse(s.idle.stopsAt) === first - 30 * 60_000;
    });

    // A port is built into the running game and its listeners: refused by name, until a restart.
    const port = home.gamePort;
    edit((s) => (s.game = { ...s.game, port: port + 1 }));
    const refused = await cli('config', 'reload');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('Not applied, restart to apply: servers[world].game.port');
    expect(refused.stdout).toContain('Nothing else changed');
    expect((await api.server()).address).toBe(`127.0.0.1:${port}`);

    // A bad file applies nothing and says why, in the words config check uses: the CLI reads it first
    // (to find the controller); SIGHUP has the controller refuse it, logged and audited.
    edit((s) => (s.idle = { ...s.idle, neverJoined: 5 }));
    const bad = await cli('config', 'reload');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('servers[0].idle.neverJoined: got the number 5; write a duration such as 15m or 90s');
    process.kill(controller.pid, 'SIGHUP');
    await waitUntil('the refusal in the log', () => /Did not reload the config/.test(controller!.output()));
    expect(controller.output()).toContain('got the number 5; write a duration such as 15m or 90s');

    // kill -HUP: the same reload, port change still refused, the idle time applied.
    edit((s) => (s.idle = { ...s.idle, neverJoined: '40m' }));
    process.kill(controller.pid, 'SIGHUP');
    await waitUntil('SIGHUP to apply neverJoined 40m', async () => {
      const s = await api.server();
      return s.idle.stopsAt !== null && Date.parse(s.idle.stopsAt) === first - 20 * 60_000;
    });
    expect((await api.server()).phase).toBe('running');

    // An unknown server: the API's 404 and the CLI name the servers there are.
    const unknown = await cli('start', 'wrold');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no server "wrold"; the servers are: world');

    const db = new Database(join(home.dataDir, 'ood.db'), { readonly: true });
    const audit = db.prepare("SELECT actor, action, detail FROM audit WHERE action LIKE 'config%' ORDER BY id").all() as { actor: string; action: string; detail: string }[];
    db.close();
    expect(audit).toEqual([
      { actor: 'admin-token', action: 'config reloaded', detail: 'applied: servers[world].idle.emptyAfter, servers[world].idle.neverJoined' },
      { actor: 'admin-token', action: 'config reloaded', detail: 'needs a restart: servers[world].game.port' },
      { actor: 'SIGHUP', action: 'config reload refused', detail: expect.stringContaining('servers[0].idle.neverJoined: got the number 5') },
      { actor: 'SIGHUP', action: 'config reloaded', detail: 'applied: servers[world].idle.neverJoined; needs a restart: servers[world].game.port' },
    ]);
    expect(controller.output()).toMatch(/Reloaded the config.*servers\[world\]\.idle\.neverJoined/);
  });
});
