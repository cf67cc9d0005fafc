import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { findHostProcesses } from '../controller/drivers/local/processes.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

/**
 * Another program on this machine listening on `port`: a process of its own (the controller's own
 * sockets are the lobby's), so OoD has a pid and a name to find.
 */
async function holdPort(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`The port holder exited with ${code}`)));
  });
  return child;
}

describe('a local game whose port another program holds', () => {
  let home: OodHome | undefined;
  let serving: Serving | undefined;
  let holder: ChildProcess | undefined;
  afterEach(async () => {
    holder?.kill('SIGKILL');
    holder = undefined;
    await serving?.close();
    serving = undefined;
    await home?.cleanup();
  });

  it.each([
    ['game port', (h: OodHome) => h.gamePort],
    ['RCON port', (h: OodHome) => h.rconPort],
  ])('fails at once, before starting the game, naming the %s and the process holding it', async (which, portOf) => {
    home = await makeOodHome();
    const port = portOf(home);
    holder = await holdPort(port);
    serving = await serveInProcess(home.configPath);
    const api = apiFor(serving.url);
    const asked = Date.now();
    await api.start();
    const failed = await waitUntil('failed', async () => {
      const s = await api.server();
      return s.phase === 'failed' && s;
    }, 20_000);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(failed.lastError).toContain(`${which === 'game port' ? 'game' : 'RCON'} port ${port}`);
    expect(failed.lastError).toContain(`node (pid ${holder.pid})`);
    // One attempt, and no game was started to find out.
    const boots = (await api.journal()).filter((e) => e.step === 'boot');
    expect(boots, JSON.stringify(boots)).toHaveLength(1);
    expect(await findHostProcesses(home.hostDir())).toEqual([]);
  }, 60_000);
});
