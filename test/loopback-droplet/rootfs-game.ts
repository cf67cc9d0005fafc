import { dirname, join } from 'node:path';
import { bundledGameCommand } from '../../controller/game/command.js';
import type { RootfsBind } from './rootfs-files.js';

/** What a Debian root needs for a rootfs droplet (and for Ansible): pass to `debianRoot({ include })`. */
export const ROOTFS_PACKAGES: readonly string[] = ['python3', 'openssh-server', 'supervisor'];

/** Where this host's node appears inside a rootfs droplet (a root has no node of its own). */
export const NODE_IN_ROOT = '/usr/local/bin/ood-test-node';

export interface BundledGameInRoot {
  /** Pass as `rootfs.binds`: this host's node, and OoD's repository at its own path, both read-only. */
  binds: RootfsBind[];
  /** The argv that runs OoD's bundled game inside such a root (for a supervisord `command=`). */
  command: string[];
}

/**
 * How a rootfs droplet runs OoD's bundled Minecraft server in place of Java: the game is TypeScript
 * run by this host's node with tsx, from this repository, neither of which exists inside a Debian
 * root. So each boot lends both, read-only (the repository at the same absolute path, so tsx's
 * loader URL and the entry path stay valid), and the command names node by its path inside.
 */
export function bundledGameInRoot(): BundledGameInRoot {
  const [node, ...args] = bundledGameCommand();
  const entry = args.at(-1)!;
  // <repo>/controller/game/bundled/main.ts
  const repo = dirname(dirname(dirname(dirname(entry))));
  if (join(repo, 'controller', 'game', 'bundled', 'main.ts') !== entry) throw new Error(`Unexpected bundled game entry ${entry}: cannot tell which repository to lend the droplet`);
  return {
    binds: [
      { source: node!, target: NODE_IN_ROOT },
      { source: repo },
    ],
    command: [NODE_IN_ROOT, ...args],
  };
}
