import { closeSync, openSync, writeSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { startControllerProcess, type ControllerProcess } from './controller-process.js';

export interface SmallDisk {
  /** An absolute path that becomes a fresh tmpfs, seen only by the controller and its game processes. */
  dir: string;
  /** As tmpfs's `size=` takes it: `64k`, `8m`. */
  size: string;
  /** A directory whose contents are copied onto the fresh tmpfs before the controller starts. */
  seed?: string;
}

export interface SmallDiskController extends ControllerProcess {
  /** `path` as the controller sees it, through /proc/<pid>/root, for the test to read and write. */
  inside(path: string): string;
}

/** Marks our tmpfs in /proc/mounts, so a leak check can tell it from anyone else's. */
export const SMALL_DISK_SOURCE = 'ood-test-small-disk';

// No --fork: unshare, then sh, exec into node, so the pid the test holds is the controller's own and
// kill -9 hits it. The mount lives in a private namespace that ends with its last process (the
// controller and the game processes it starts), so nothing is left mounted, pass or fail.
const SCRIPT = 'mkdir -p "$1" && mount -t tmpfs -o "size=$2" "$3" "$1" && if [ -n "$4" ]; then cp -a "$4/." "$1/"; fi && shift 4 && exec "$@"';

/**
 * `ood serve` inside a private mount namespace where `disk.dir` is a small tmpfs. Needs root (or
 * CAP_SYS_ADMIN). Game processes still carry their OoD marker, so `OodHome.cleanup` ends them.
 */
export async function startControllerOnSmallDisk(configPath: string, disk: SmallDisk, extraEnv: Record<string, string> = {}): Promise<SmallDiskController> {
  if (!isAbsolute(disk.dir)) throw new Error(`small disk: ${disk.dir} is not an absolute path`);
  const wrap = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', disk.dir, disk.size, SMALL_DISK_SOURCE, disk.seed ?? ''];
  const controller = await startControllerProcess(configPath, extraEnv, undefined, wrap);
  return { ...controller, inside: (path) => join('/proc', String(controller.pid), 'root', path) };
}

/** Writes zeros to `file` until its disk has no room left; returns how many bytes went in. */
export function fillUp(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 << 10);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return bytes;
}
