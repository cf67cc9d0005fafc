import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listArchives } from '../controller/drivers/local/archive.js';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor, TEST_TOKEN } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { ood } from './helpers/ood-cli.js';
import { waitUntil } from './helpers/wait.js';

describe('bad input', () => {
  let home: OodHome | undefined;
  let serving: Serving | undefined;
  afterEach(async () => {
    await serving?.close();
    serving = undefined;
    await home?.cleanup();
  });

  it('a malformed config stops with the key path and what was expected', async () => {
    home = await makeOodHome();
    writeFileSync(home.configPath, 'servers:\n  - id: world\n    idle:\n      emptyAfter: soon\n');
    const bad = await ood(['config', 'check', '--config', home.configPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('servers[0].idle.emptyAfter: expected a duration like "15m", got "soon"');
    writeFileSync(home.configPath, 'servers:\n  - id: world\n    keepArchives: 0\n    colour: blue\n');
    const two = await ood(['config', 'check', '--config', home.configPath]);
    expect(two.stderr).toContain('servers[0].keepArchives:');
    expect(two.stderr).toContain('servers[0]: unknown key "colour"');
    writeFileSync(home.configPath, 'servers: [\n');
    expect((await ood(['config', 'check', '--config', home.configPath])).stderr).toContain('is not valid YAML');
    expect((await ood(['config', 'check', '--config', join(home.dir, 'missing.yaml')])).stderr).toContain('does not exist');
    const original = 'servers:\n  - id: world\n';
    writeFileSync(home.configPath, original);
    const good = await ood(['config', 'check', '--config', home.configPath]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('world: local driver, game port 25565, idle stop after 15m empty / 10m unjoined, keeps 3 archives');
    // An ood.yaml written only to change something else keeps the bundled game, and says so.
    expect(good.stdout).toContain("game: the bundled game (OoD's Minecraft 1.21.4 server, flying-squid; no download)");
    expect(good.stdout).not.toContain('warning');
    writeFileSync(home.configPath, 'servers:\n  - id: world\n    game: { kind: vanilla }\n    local: { template: ./template }\n');
    const vanilla = await ood(['config', 'check', '--config', home.configPath]);
    expect(vanilla.code).toBe(0);
    expect(vanilla.stdout).toContain(`game: vanilla: java -Xmx2G -jar server.jar nogui from ${join(home.dir, 'template')}`);
    expect(vanilla.stdout).toContain(`warning: ${join(home.dir, 'template')} has no server.jar: put Mojang's server.jar (and eula.txt) there`);
    writeFileSync(home.configPath, original);
    expect(readFileSync(home.configPath, 'utf8')).toBe(original);
  });

  it('the API answers unknown servers, bad JSON and missing or wrong tokens with JSON errors', async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    const api = apiFor(serving.url);
    expect(await api.call('GET', '/api/servers/nope')).toEqual({ status: 404, body: { error: 'no server "nope"; the servers are: world' } });
    expect((await api.call('POST', '/api/servers/nope/start')).status).toBe(404);
    const badJson = await api.call('POST', '/api/servers/world/start', { body: '{"reason":', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(typeof badJson.body.error).toBe('string');
    const extra = await api.call('POST', '/api/servers/world/start', { body: '{"colour":"blue"}', headers: { 'content-type': 'application/json' } });
    expect(extra.status).toBe(400);
    expect(String(extra.body.error)).toContain('colour');
    const none = await fetch(`${serving.url}/api/servers`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'missing Authorization: Bearer <OOD_ADMIN_TOKEN> (or a web session)' });
    expect((await apiFor(serving.url, 'wrong-token').call('GET', '/api/servers')).status).toBe(401);
    expect((await apiFor(serving.url, TEST_TOKEN + 'x').call('GET', '/api/servers')).status).toBe(401);
    expect((await api.call('POST', '/api/servers/world/keepalive')).status).toBe(409);
    expect((await fetch(`${serving.url}/healthz`)).status).toBe(200);
    // Nothing of that changed what is wanted.
    expect((await api.server()).desired).toBe('down');
    expect((await api.call('GET', '/api/servers')).body).toMatchObject({ servers: [{ id: 'world', phase: 'archived', desired: 'down', address: null, players: { online: 0 }, idle: { emptySince: null, stopsAt: null }, lastError: null }] });
  });

  it('a damaged newest archive is set aside and the previous good one restored', async () => {
    home = await makeOodHome({ templateFiles: { 'world/ood-note.txt': 'generation 1' } });
    serving = await serveInProcess(home.configPath);
    const api = apiFor(serving.url);
    const cycle = async (note: string) => {
      await api.start();
      await waitUntil('running', async () => (await api.server()).phase === 'running');
      writeFileSync(join(home!.hostDir(), 'world/ood-note.txt'), note);
      await api.stop();
      await waitUntil('archived', async () => (await api.server()).phase === 'archived');
    };
    await cycle('generation 1');
    await cycle('generation 2');
    const [newest, previous] = await listArchives(home.archiveDir());
    truncateSync(join(home.archiveDir(), newest!.name), Math.floor(statSync(join(home.archiveDir(), newest!.name)).size / 2));

    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running');
    expect(readFileSync(join(home.hostDir(), 'world/ood-note.txt'), 'utf8')).toBe('generation 1');
    expect(readdirSync(join(home.archiveDir(), 'corrupt'))).toEqual([newest!.name]);
    const provision = (await api.journal()).filter((e) => e.step === 'provision').at(-1)!;
    expect(provision.detail).toContain(`Set ${newest!.name} aside in archives/corrupt/: damaged:`);
    expect(provision.detail).toContain(`Restored ${previous!.name}`);

    // With only damaged archives left, OoD refuses to start a fresh world over them.
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived');
    for (const a of await listArchives(home.archiveDir())) truncateSync(join(home.archiveDir(), a.name), 100);
    await api.start();
    const failed = await waitUntil('failed', async () => {
      const s = await api.server();
      return s.phase === 'failed' && s;
    });
    expect(failed.lastError).toContain('only damaged ones');
    expect(existsSync(home.hostDir())).toBe(false);

    // A person repairs it (moves the damaged archives away) and presses start again: it resumes.
    rmSync(home.archiveDir(), { recursive: true });
    await api.start();
    await waitUntil('running after the repair', async () => (await api.server()).phase === 'running');
  });
});
