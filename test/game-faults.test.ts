import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findHostProcesses, signalAll } from '../controller/drivers/local/processes.js';
import { updateProperties } from '../controller/minecraft/properties.js';
import type { Serving } from '../controller/cli/serve.js';
import { apiFor } from './helpers/api.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

/** A game that misbehaves must never keep its host up forever, nor strand a server in failed with it running. */
describe('a game that hangs or whose RCON breaks', () => {
  let home: OodHome | undefined;
  let serving: Serving | undefined;
  let stoppedPid: number | undefined;
  afterEach(async () => {
    if (stoppedPid) signalAll([stoppedPid], 'SIGKILL');
    stoppedPid = undefined;
    await serving?.close();
    serving = undefined;
    await home?.cleanup();
  });

  it('a game that answers nothing for hungAfter is treated as crashed, then booted again as wanted', async () => {
    home = await makeOodHome({ server: { game: { hungAfter: '3s' } } });
    serving = await serveInProcess(home.configPath);
    const api = apiFor(serving.url);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running');
    const [pid] = await findHostProcesses(home.hostDir());
    // Hung: the process is there, it answers no ping, nobody is online (a failed probe counts as present).
    signalAll([pid!], 'SIGSTOP');
    stoppedPid = pid;
    const hung = await waitUntil('the hung game to be stopped', async () => (await api.journal()).find((e) => e.step === 'kill_hung' && e.outcome === 'ok'), 30_000);
    expect(hung.detail).toContain(`Sent SIGKILL to pid ${pid}`);
    expect((await api.server()).lastError).toMatch(/^The game hung: the game answered no probe for \d+s; treating it as crashed/);
    await waitUntil('running again on a new process', async () => {
      const [now] = await findHostProcesses(home!.hostDir());
      return now !== undefined && now !== pid && (await api.server()).phase === 'running';
    }, 60_000).catch(async (err: Error) => {
      // It timed out once in a loaded full run and never alone: say what the controller was doing.
      const journal = (await api.journal()).slice(0, 12).map((e) => `${e.step ?? ''} ${e.outcome ?? ''} ${e.detail ?? ''}`);
      throw new Error(`${err.message}; server ${JSON.stringify(await api.server())}; processes ${JSON.stringify(await findHostProcesses(home!.hostDir()))}; journal:\n${journal.join('\n')}`);
    });
    expect(await findHostProcesses(home.hostDir())).toHaveLength(1);
  });

  it('broken RCON on an idle server skips the warning and still stops and archives it', async () => {
    home = await makeOodHome({
      server: { idle: { emptyAfter: '1h', neverJoined: '3s', warnings: ['2s'] }, deadlines: { booting: '60s', stopping: '20s', poweringOff: '2s' } },
      reconcile: { maxAttempts: 2 },
    });
    serving = await serveInProcess(home.configPath);
    const api = apiFor(serving.url);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running');
    // The game keeps its password; OoD now reads a wrong one, so every RCON command fails to log in.
    const props = join(home.hostDir(), 'server.properties');
    writeFileSync(props, updateProperties(readFileSync(props, 'utf8'), { 'rcon.password': 'not-the-password' }));

    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000);
    const journal = await api.journal();
    expect(journal.find((e) => e.step === 'warn')?.outcome).toBe('error');
    expect(journal.some((e) => e.step === 'skipped' && e.detail?.startsWith('Skipped warn'))).toBe(true);
    expect(journal.some((e) => e.step === 'phase' && e.detail?.includes('→ failed'))).toBe(false);
    expect(journal.some((e) => e.step === 'phase' && e.detail?.startsWith('stopping → powering_off: stop_game failed'))).toBe(true);
    expect(await findHostProcesses(home.hostDir())).toEqual([]);
  });

  it('a failed server whose game still runs says so loudly in the API', async () => {
    // The game never answers while booting (stopped at once), so booting's deadline sends it to failed.
    home = await makeOodHome({ server: { deadlines: { booting: '3s', stopping: '20s', poweringOff: '10s' } } });
    serving = await serveInProcess(home.configPath);
    const api = apiFor(serving.url);
    await api.start();
    const pid = await waitUntil('the game process', async () => (await findHostProcesses(home!.hostDir()))[0]);
    signalAll([pid], 'SIGSTOP');
    stoppedPid = pid;
    const failed = await waitUntil('failed', async () => {
      const s = await api.server();
      return s.phase === 'failed' && s;
    });
    expect(failed.alert).toMatch(/^failed with the game still running/);
  });
});
