import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Removes every Pulumi lock in the controller's own file backend (`<dataDir>/pulumi`), with the
 * `.json.attrs` the file backend keeps beside each. Called at start-up, holding the data dir's
 * exclusive lock (controller/lock.ts) and before any stack operation: every update in that backend is
 * this controller's, so every lock there was left by one that is no longer running, whatever host name
 * (a recreated container) or pid (reused since) it names. Locks of any other backend (PULUMI_BACKEND_URL
 * pointing elsewhere) may belong to other machines and are never touched. Returns the paths removed.
 */
export function removeOwnPulumiLocks(dataDir: string, pulumiEnv: Readonly<Record<string, string | undefined>>, log: (path: string) => void): string[] {
  const own = resolve(dataDir, 'pulumi');
  const backend = pulumiEnv.PULUMI_BACKEND_URL;
  if (backend && backend !== `file://${own}`) return [];
  const root = join(own, '.pulumi', 'locks');
  let files: string[];
  try {
    files = readdirSync(root, { recursive: true, encoding: 'utf8' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.json')).sort()) {
    const path = join(root, file);
    rmSync(path, { force: true });
    rmSync(`${path}.attrs`, { force: true });
    log(path);
    removed.push(path);
  }
  return removed;
}
