import { existsSync } from 'node:fs';

/** Written by the bundled game in its host directory once it is about to listen (`game/bundled/port-handover.ts`). */
export const HANDOVER_FILE = '.ood-port-handover';
/** The environment variable that tells the bundled game where to write it. */
export const HANDOVER_ENV = 'OOD_PORT_HANDOVER';
/** How often the driver looks: the lobby closes within this of the game asking. */
const POLL_MS = 2;

export type HandoverOutcome = 'asked' | 'exited' | 'timed out';

/**
 * Waits until the game `pid` says it is about to listen (it wrote `signalPath`), has exited, or
 * `timeoutMs` passed. The caller lets go of the port in every case: a game that exited is booted
 * again, and one that is slow still finds the port free when it gets there.
 */
export async function waitForHandover(pid: number, signalPath: string, timeoutMs: number): Promise<HandoverOutcome> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (existsSync(signalPath)) return 'asked';
    if (!alive(pid)) return 'exited';
    if (performance.now() > deadline) return 'timed out';
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
