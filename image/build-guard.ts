import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clearImageBuildMark, runningImageBuild, setImageBuildMark, type ImageBuildMark } from '../controller/image-build-mark.js';
import { Store } from '../controller/store/store.js';
import { ImageBuildError, ImagePreflightError } from './errors.js';

/**
 * Claims the server for an image build: sets the mark the controller honours (no start while it is
 * set), then reads the server's phase under the store's write lock, the lock a start's write takes
 * too: either the start committed first and is seen here, or it sees the mark and is refused.
 * A server that is not archived (or is wanted up) is refused unless `force`: its session would end
 * older than the build, or be lost. Returns how to release the claim, and whether the server has ever
 * saved a session (then a build must not become its start image unless asked: `--use-now`).
 */
export function claimServerForBuild(o: { dataDir: string; mark: ImageBuildMark; force: boolean; say: (line: string) => void }): { release: () => void; hasSessions: boolean } {
  const { server } = o.mark;
  const other = setImageBuildMark(o.dataDir, o.mark);
  if (other) throw new ImageBuildError(`Another \`ood image build\` (${other.build}, process ${other.pid}) runs for ${server}; wait for it, or stop that process`);
  const release = () => clearImageBuildMark(o.dataDir, server, o.mark.pid);
  let state: ReturnType<typeof serverState>;
  try {
    state = serverState(o.dataDir, server);
    const what = busy(server, state);
    if (what) {
      if (!o.force) throw refusal(server, what);
      o.say(`WARNING: ${what}; building anyway (--force). Starts are refused while the build runs, but the running session goes on: ` +
        'its snapshot at the stop is newer than this build, and the build is used only if you pass --use-now');
    }
  } catch (err) {
    release();
    throw err;
  }
  return { release, hasSessions: state?.hasSessions ?? false };
}

/**
 * The same rule as `claimServerForBuild`, read only (no mark set): for the checks `ood image build`
 * makes before it creates anything. The claim reads again under the lock, so a start in between is
 * still caught there.
 */
export function checkServerForBuild(o: { dataDir: string; server: string; force: boolean }): void {
  const other = runningImageBuild(o.dataDir, o.server);
  if (other && other.pid !== process.pid) {
    throw new ImagePreflightError('phase', `Another \`ood image build\` (${other.build}, process ${other.pid}) runs for ${o.server}; wait for it, or stop that process`);
  }
  const what = busy(o.server, serverState(o.dataDir, o.server));
  if (what && !o.force) throw new ImagePreflightError('phase', refusal(o.server, what).message);
}

/** What keeps the server from being built for now ("survival is running and wanted up"), or null. */
function busy(server: string, state: ReturnType<typeof serverState>): string | null {
  if (!state || (state.phase === 'archived' && state.desired !== 'up')) return null;
  return `${server} is ${state.phase}${state.desired === 'up' ? ' and wanted up' : ''}`;
}

function refusal(server: string, what: string): ImageBuildError {
  return new ImageBuildError(
    `${what}: an image built now would miss or overwrite what its session saves. Stop it first (\`ood stop ${server} --wait\`), ` +
      'then build again; or pass --force to build anyway',
  );
}

/** The server's row in the controller's store and whether a stop ever snapshotted it; null when no controller has run here yet. */
function serverState(dataDir: string, server: string): { phase: string; desired: string; hasSessions: boolean } | null {
  const path = join(dataDir, 'ood.db');
  if (!existsSync(path)) return null;
  const store = Store.open(path);
  try {
    return store.db
      .transaction(() => {
        const row = store.servers.get(server);
        if (!row) return null;
        const saved = store.db.prepare("SELECT 1 FROM journal WHERE server = ? AND step = 'snapshot' AND outcome = 'ok' LIMIT 1").get(server);
        return { phase: row.phase, desired: row.desired, hasSessions: saved !== undefined };
      })
      .immediate();
  } finally {
    store.close();
  }
}
