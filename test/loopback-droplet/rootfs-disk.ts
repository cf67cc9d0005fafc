import { execFile } from 'node:child_process';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { MachineSpec } from '../fake-do/machines.js';
import { setServerIp, type DropletPaths } from './droplet-files.js';
import { restoreRoot } from './rootfs-archive.js';
import { writeRootfsMachineFiles, type RootfsBind } from './rootfs-files.js';

const run = promisify(execFile);

/** Makes every droplet of a `LoopbackMachines` a rootfs droplet (README.md, "Rootfs droplets"). */
export interface RootfsOptions {
  /**
   * A fresh, unpacked root for a droplet created from the distribution image `slug` (what a stock
   * `debian-13-x64` droplet boots), e.g. `() => debianRoot({ include: [...] })`. The droplet takes the
   * directory over: it is moved into the droplet and removed with it. It must hold openssh-server and
   * supervisor. Droplets created from snapshots unpack the snapshot instead.
   */
  distribution(slug: string): Promise<string>;
  /** Host paths bound into every droplet's root at each boot (read-only by default); never in a snapshot. */
  binds?: RootfsBind[];
}

/**
 * Makes the disk of a new rootfs droplet (from the distribution or by unpacking its snapshot), gives
 * the game this droplet's address as `server-ip` as every loopback droplet does, and applies the
 * user data as cloud-init would.
 */
export async function makeRootfsDisk(label: string, spec: MachineSpec, paths: DropletPaths, options: RootfsOptions, archiveTimeoutMs: number): Promise<void> {
  if (spec.image.kind === 'snapshot') {
    await mkdir(paths.disk, { recursive: true });
    await restoreRoot(label, spec.image.archive, paths.disk, archiveTimeoutMs);
  } else {
    const fresh = await options.distribution(spec.image.slug);
    await mkdir(dirname(paths.disk), { recursive: true });
    await moveDir(fresh, paths.disk);
  }
  await setServerIp(paths, spec.ipv4);
  await writeRootfsMachineFiles(paths, spec, options.binds ?? []);
}

async function moveDir(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    // Another file system (the root was made under another temp dir): copy with owners, then remove.
    await run('cp', ['-a', '--', from, to], { timeout: 300_000 });
    await rm(from, { recursive: true, force: true });
  }
}
