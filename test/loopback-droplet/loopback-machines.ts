import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { MachineBackend, MachineSpec } from '../fake-do/machines.js';
import { archiveDisk, restoreDisk } from './disk-archive.js';
import { dropletPaths, setServerIp, writeFreshDisk, writeMachineFiles, type DropletPaths } from './droplet-files.js';
import { LoopbackDropletError } from './errors.js';
import { bootMachine, machinePids, stopMachine, type RunningMachine } from './machine-process.js';
import { archiveRoot } from './rootfs-archive.js';
import { makeRootfsDisk, type RootfsOptions } from './rootfs-disk.js';
import { rootfsPaths } from './rootfs-files.js';

export interface LoopbackMachinesOptions {
  /** Droplets live in `<baseDir>/droplets/<id>/`; the caller owns and removes `baseDir`. */
  baseDir: string;
  /** How long a boot may take until sshd and supervisord answer. */
  bootTimeoutMs?: number;
  /** How long a graceful power-off may take before everything is killed (the game's stop waits up to 60 s). */
  shutdownTimeoutMs?: number;
  /** How long a snapshot or a restore of a disk may take. */
  archiveTimeoutMs?: number;
  /**
   * Rootfs droplets: every droplet's disk is a whole Debian root whose own sshd and supervisord run
   * chrooted into it (README.md, "Rootfs droplets"). Without it, droplets share the host's root.
   */
  rootfs?: RootfsOptions;
}

interface Droplet {
  spec: MachineSpec;
  paths: DropletPaths;
  running?: RunningMachine;
  /** The PID namespace of the latest boot, kept after power-off so a test can check it is empty. */
  lastPidNamespace?: string;
}

/** Host directories a droplet's init binds its own over (inside its mount namespace only). */
const MOUNT_POINTS = ['/srv', '/run', '/root', '/etc/supervisor'];

/**
 * Every droplet of the fake DigitalOcean API as a real host on this machine: sshd on its 127.0.1.N:22,
 * supervisord running OoD's bundled game as program `minecraft` in /srv/minecraft, all in the
 * droplet's own PID and mount namespaces (see README.md). Operations on one droplet run one at a time.
 */
export class LoopbackMachines implements MachineBackend {
  private readonly droplets = new Map<number, Droplet>();
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly bootTimeoutMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly archiveTimeoutMs: number;

  constructor(private readonly options: LoopbackMachinesOptions) {
    this.bootTimeoutMs = options.bootTimeoutMs ?? 30_000;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 90_000;
    this.archiveTimeoutMs = options.archiveTimeoutMs ?? 120_000;
  }

  create(spec: MachineSpec): Promise<void> {
    return this.serial(spec.id, async () => {
      const label = labelOf(spec);
      if (this.droplets.has(spec.id)) throw new LoopbackDropletError(`${label} exists already; destroy it first`);
      if (!/^127\.\d+\.\d+\.\d+$/.test(spec.ipv4)) throw new LoopbackDropletError(`${label} needs a 127.0.0.0/8 address; tests never bind anything else`);
      const rootfs = this.options.rootfs;
      const missing = rootfs ? [] : MOUNT_POINTS.filter((dir) => !existsSync(dir));
      if (missing.length > 0) throw new LoopbackDropletError(`${label} cannot boot: this host lacks ${missing.join(', ')}, which the droplet's own directories are bound over (install openssh-server and supervisor)`);
      const paths = (rootfs ? rootfsPaths : dropletPaths)(this.options.baseDir, spec.id);
      if (existsSync(paths.dir)) throw new LoopbackDropletError(`${label}: ${paths.dir} is left from an earlier droplet with this id; remove it or use another base dir`);
      const droplet: Droplet = { spec, paths };
      try {
        if (rootfs) {
          await makeRootfsDisk(label, spec, paths, rootfs, this.archiveTimeoutMs);
        } else {
          await mkdir(paths.disk, { recursive: true });
          if (spec.image.kind === 'snapshot') await restoreDisk(label, spec.image.archive, paths.disk, this.archiveTimeoutMs);
          else await writeFreshDisk(paths);
          await setServerIp(paths, spec.ipv4);
          await writeMachineFiles(paths, spec);
        }
        await this.boot(droplet);
      } catch (err) {
        // Nothing of it runs (a failed boot kills what it started): remove it so the id can be created again.
        await rm(paths.dir, { recursive: true, force: true });
        if (err instanceof LoopbackDropletError) throw err;
        throw new LoopbackDropletError(`Could not make ${label}: ${(err as Error).message}`, { cause: err });
      }
      this.droplets.set(spec.id, droplet);
    });
  }

  powerOff(id: number, graceful: boolean): Promise<void> {
    return this.serial(id, async () => this.stop(this.get(id), graceful));
  }

  powerOn(id: number): Promise<void> {
    return this.serial(id, async () => {
      const droplet = this.get(id);
      if (!droplet.running) await this.boot(droplet);
    });
  }

  snapshot(id: number, archive: string): Promise<{ bytes: number }> {
    return this.serial(id, async () => {
      const droplet = this.get(id);
      const copy = this.options.rootfs ? archiveRoot : archiveDisk;
      return copy(labelOf(droplet.spec), droplet.paths.disk, archive, this.archiveTimeoutMs);
    });
  }

  destroy(id: number): Promise<void> {
    return this.serial(id, async () => {
      const droplet = this.get(id);
      await this.stop(droplet, false);
      this.droplets.delete(id);
      await rm(droplet.paths.dir, { recursive: true, force: true });
    });
  }

  /** Kills every droplet (hard power-off); their directories stay for the caller to remove with `baseDir`. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.droplets.keys()].map((id) => this.powerOff(id, false)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    if (failed.length > 0) throw new AggregateError(failed, `Could not stop ${failed.length} loopback droplet(s): ${failed.map((e) => (e as Error).message).join('; ')}`);
  }

  /** Where droplet `id` keeps its disk, configs and logs. */
  paths(id: number): DropletPaths {
    return this.get(id).paths;
  }

  isOn(id: number): boolean {
    return this.get(id).running !== undefined;
  }

  /** Host pids of the droplet's processes (of its latest boot); empty once it is off. */
  async processes(id: number): Promise<number[]> {
    const ns = this.get(id).lastPidNamespace;
    return ns ? machinePids(ns) : [];
  }

  private async boot(droplet: Droplet): Promise<void> {
    droplet.running = await bootMachine(labelOf(droplet.spec), droplet.paths, droplet.spec.ipv4, this.bootTimeoutMs);
    droplet.lastPidNamespace = droplet.running.pidNamespace;
  }

  private async stop(droplet: Droplet, graceful: boolean): Promise<void> {
    if (!droplet.running) return;
    await stopMachine(labelOf(droplet.spec), droplet.running, graceful, this.shutdownTimeoutMs);
    droplet.running = undefined;
  }

  private get(id: number): Droplet {
    const droplet = this.droplets.get(id);
    if (!droplet) throw new LoopbackDropletError(`There is no loopback droplet ${id}; it was never created or is destroyed`);
    return droplet;
  }

  /** Runs `step` after every earlier operation on droplet `id` has settled. */
  private serial<T>(id: number, step: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(step, step);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return next;
  }
}

function labelOf(spec: MachineSpec): string {
  return `Loopback droplet ${spec.id} (${spec.name}, ${spec.ipv4})`;
}
