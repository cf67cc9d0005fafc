import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clearImageBuildMark, setImageBuildMark, type ImageBuildMark } from '../controller/image-build-mark.js';
import { Store } from '../controller/store/store.js';
import { ImageBuildError } from './errors.js';

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
    if (state && (state.phase !== 'archived' || state.desired === 'up')) {
      const what = `${server} is ${state.phase}${state.desired === 'up' ? ' and wanted up' : ''}`;
      if (!o.force) {
        throw new ImageBuildError(
          `${what}: an image built now would miss or overwrite what its session saves. Stop it first (\`ood stop ${server} --wait\`), ` +
            'then build again; or pass --force to build anyway',
        );
      }
      o.say(`WARNING: ${what}; building anyway (--force). Starts are refused while the build runs, but the running session goes on: ` +
        'its snapshot at the stop is newer than this build, and the build is used only if you pass --use-now');
    }
  } catch (err) {
    release();
    throw err;
  }
  return { release, hasSessions: state?.hasSessions ?? false };
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
