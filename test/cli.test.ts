import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { ood } from './helpers/ood-cli.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';

/** What a new user meets on the command line: a port already taken, running from a subdirectory. */
describe('the ood CLI as a new user meets it', () => {
  let home: OodHome | undefined;
  let blocker: Server | undefined;
  let controller: ControllerProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await controller?.stop();
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    await home?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
    home = blocker = controller = dir = undefined;
  });

  it('a port in use says which, and how to choose another; --port and OOD_PORT choose one', async () => {
    home = await makeOodHome();
    // A port the OS gives now may be one makeOodHome was given and let go (the game's): then the config
    // check, not the bind, would answer (seen once). Take another until it is none of the home's.
    let taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    while ([home.gamePort, home.rconPort].includes((taken.address() as { port: number }).port)) {
      const next = createServer();
      await new Promise<void>((resolve) => next.listen(0, '127.0.0.1', resolve));
      taken.close();
      taken = next;
    }
    blocker = taken;
    const port = (taken.address() as { port: number }).port;

    const busy = await ood(['serve', '--config', home.configPath, '--port', String(port)]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use (another OoD, or another program). Choose another with --port N, OOD_PORT=N or listen.port in ood.yaml`);
    const viaEnv = await ood(['serve', '--config', home.configPath], { env: { OOD_PORT: String(port) } });
    expect(viaEnv.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect((await ood(['serve', '--config', home.configPath, '--port', 'http'])).stderr).toContain('--port: expected a port number from 0 to 65535, got "http"');

    // The config says port 0 here; a free port given on the command line is the one it listens on.
    const free = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    controller = await startControllerProcess(home.configPath, { OOD_PORT: String(free) });
    expect(controller.url).toBe(`http://127.0.0.1:${free}`);
  });

  it('finds ood.yaml and the data directory from a subdirectory, as git finds .git', async () => {
    home = await makeOodHome();
    // No OOD_ADMIN_TOKEN: the controller keeps its token in the data dir, where the CLI must find it.
    controller = await startControllerProcess(home.configPath, { OOD_ADMIN_TOKEN: '' });
    const deep = join(home.dir, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    const status = await ood(['status'], { cwd: deep, env: { OOD_ADMIN_TOKEN: '' } });
    expect(status.stderr).toBe('');
    expect(status.stdout).toMatch(/^SERVER\s+PHASE/);
    expect(status.stdout).toMatch(/\nworld\s+archived\s+down/);

    // With no ood.yaml anywhere: the nearest .ood/ above is the embedded default's data directory.
    dir = mkdtempSync(join(tmpdir(), 'ood-upwards-'));
    mkdirSync(join(dir, '.ood'));
    mkdirSync(join(dir, 'x', 'y'), { recursive: true });
    const check = await ood(['config', 'check'], { cwd: join(dir, 'x', 'y') });
    expect(check.stdout).toContain(`data in ${join(dir, '.ood')}`);
  });

  it('cost on the local driver: hours, no money (README promises no $0.00)', async () => {
    home = await makeOodHome();
    controller = await startControllerProcess(home.configPath);
    const cost = await ood(['cost', '--config', home.configPath], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN } });
    expect(cost.stderr).toBe('');
    expect(cost.stdout).toMatch(/^\d{4}-\d\d: 0 h up, 0 player-hours; the local driver costs no money\n$/);
  });

  it('archives: human sizes, and says so when there are none', async () => {
    home = await makeOodHome();
    controller = await startControllerProcess(home.configPath);
    const none = await ood(['archives', 'world', '--config', home.configPath], { env: { OOD_ADMIN_TOKEN: TEST_TOKEN } });
    expect(none.stdout).toBe('world has no archives yet: one is made each time it stops\n');
  });
});
