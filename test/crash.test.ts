import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extractArchive, listArchives } from '../controller/drivers/local/archive.js';
import { findHostProcesses } from '../controller/drivers/local/processes.js';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const NOTE = 'world/ood-note.txt';

interface Scenario {
  phase: string;
  /** The step whose window the controller is killed in, and where in it. */
  failpoint: string;
  step: string;
  /** Whether the run is a stop (the server is started first, then stopped). */
  stop: boolean;
  /**
   * For an `after` failpoint: what shows the step's work is done, so the kill lands in the window
   * between the work and its record (and not, on a slow moment, in the middle of the work).
   */
  done?: (home: OodHome) => Promise<boolean>;
  /** Deadlines for the run, and how long the controller stays dead: longer than the phase's deadline. */
  deadlines?: Record<string, string>;
  outageMs?: number;
}

const SHORT = { booting: '60s', stopping: '20s', poweringOff: '10s' };

const scenarios: Scenario[] = [
  { phase: 'provisioning', step: 'provision', failpoint: 'provision:after=4000', stop: false, done: async (h) => existsSync(h.hostDir()) },
  { phase: 'booting', step: 'boot', failpoint: 'boot:after=4000', stop: false, done: async (h) => (await findHostProcesses(h.hostDir())).length > 0 },
  { phase: 'running', step: '', failpoint: '', stop: false },
  { phase: 'stopping', step: 'stop_game', failpoint: 'stop_game:before=4000', stop: true },
  { phase: 'snapshotting', step: 'snapshot', failpoint: 'snapshot:after=4000', stop: true, done: async (h) => (await listArchives(h.archiveDir())).length > 0 },
  { phase: 'destroying', step: 'destroy', failpoint: 'destroy:after=4000', stop: true, done: async (h) => !existsSync(h.hostDir()) },
  // A long outage: the controller stays dead past the phase's deadline, which must not count it.
  { phase: 'provisioning', step: 'provision', failpoint: 'provision:before=4000', stop: false, deadlines: { ...SHORT, provisioning: '2s' }, outageMs: 3_000 },
  { phase: 'snapshotting', step: 'snapshot', failpoint: 'snapshot:after=4000', stop: true, done: async (h) => (await listArchives(h.archiveDir())).length > 0, deadlines: { ...SHORT, snapshotting: '2s' }, outageMs: 3_000 },
  { phase: 'destroying', step: 'destroy', failpoint: 'destroy:after=4000', stop: true, done: async (h) => !existsSync(h.hostDir()), deadlines: { ...SHORT, destroying: '2s' }, outageMs: 3_000 },
];

describe('kill -9 of the controller converges after a restart', () => {
  let home: OodHome | undefined;
  let controller: ControllerProcess | undefined;
  afterEach(async () => {
    await controller?.stop();
    await home?.cleanup();
  });

  it.each(scenarios)('during $phase (outage $outageMs ms)', async ({ phase, step, failpoint, stop, done, deadlines, outageMs }) => {
    home = await makeOodHome({ templateFiles: { [NOTE]: `note for ${phase}` }, ...(deadlines ? { server: { deadlines } } : {}) });
    controller = await startControllerProcess(home.configPath, failpoint ? { OOD_FAILPOINTS: failpoint } : {});
    let api = apiFor(controller.url);
    await api.start();
    if (stop) {
      await waitUntil('running', async () => (await api.server()).phase === 'running');
      await api.stop();
    }
    if (step) {
      await waitUntil(`${step} to be under way`, async () => (await api.journal()).some((e) => e.step === step && e.outcome === null));
      if (done) await waitUntil(`${step} to have done its work`, () => done(home!), 3_000);
    } else {
      await waitUntil('running', async () => (await api.server()).phase === 'running');
    }
    expect((await api.server()).phase).toBe(phase);
    const pidsBefore = await findHostProcesses(home.hostDir());
    await controller.kill9();
    if (outageMs) await new Promise((r) => setTimeout(r, outageMs));

    // Started again with no failpoints, it must finish the job by itself.
    controller = await startControllerProcess(home.configPath);
    api = apiFor(controller.url);
    const target = stop ? 'archived' : 'running';
    await waitUntil(`${target} after the restart`, async () => (await api.server()).phase === target, 60_000);
    // Stay a moment: a converged controller must not start or archive anything more.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await api.server()).phase).toBe(target);

    const pids = await findHostProcesses(home.hostDir());
    const archives = await listArchives(home.archiveDir());
    const journal = await api.journal();
    if (stop) {
      expect(pids).toEqual([]);
      expect(existsSync(home.hostDir())).toBe(false);
      expect(archives).toHaveLength(1);
      const out = mkdtempSync(join(tmpdir(), 'ood-crash-check-'));
      await extractArchive(join(home.archiveDir(), archives[0]!.name), out);
      expect(readFileSync(join(out, NOTE), 'utf8')).toBe(`note for ${phase}`);
      rmSync(out, { recursive: true });
    } else {
      expect(pids).toHaveLength(1);
      if (pidsBefore.length > 0) expect(pids).toEqual(pidsBefore);
      expect(readFileSync(join(home.hostDir(), NOTE), 'utf8')).toBe(`note for ${phase}`);
      // One provision did the work (recorded ok, or interrupted by the kill); none ran twice.
      // (Killed before its provision started, the cut-off row did nothing, and the next one did it.)
      const didWork = failpoint.startsWith('provision:before') ? ['ok'] : ['ok', 'interrupted'];
      expect(journal.filter((e) => e.step === 'provision' && didWork.includes(e.outcome ?? ''))).toHaveLength(1);
    }
    if (step) {
      const cut = journal.find((e) => e.step === step && e.outcome === 'interrupted');
      expect(cut, `journal row for the interrupted ${step}`).toBeDefined();
    }
  });
});
