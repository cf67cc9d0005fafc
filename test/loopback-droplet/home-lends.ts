import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledGameCommand } from '../../controller/game/command.js';
import { LoopbackDropletError } from './errors.js';

/** Root's home on the host, which every loopback droplet covers with a home of its own. */
export const HOST_HOME = '/root';

/** A host path under /root that a droplet needs, lent back at the same place inside its own /root. */
export interface HomeLend {
  /** The host path, e.g. /root/ood/ (a checkout cloned as root). */
  source: string;
  /** Its path below /root, e.g. `ood`: the same place inside the droplet's home. */
  inHome: string;
  directory: boolean;
}

/**
 * What the droplet's game runs from, each by the path the game uses and by its real path (node
 * resolves modules and tsx's loader through symlinks): this node, tsx's loader, this repository and
 * its node_modules.
 */
export function bundledGamePaths(): string[] {
  const [node, , loader, entry] = bundledGameCommand();
  // <repo>/controller/game/bundled/main.ts
  const repo = dirname(dirname(dirname(dirname(entry!))));
  const paths = [node!, fileURLToPath(loader!), repo, join(repo, 'node_modules')].filter((path) => existsSync(path));
  return [...new Set([...paths, ...paths.map((path) => realpathSync(path))])];
}

/**
 * Which of `paths` a droplet's own /root would hide, reduced to the outermost (a checkout lent whole
 * carries its node_modules). A checkout cloned as root (`git clone … ~/ood`) is such a path: without
 * the lend, the droplet's supervisord cannot spawn the game (`minecraft: ERROR (spawn error)`).
 * /root itself cannot be lent: the droplet would have no home of its own.
 */
export function homeLends(paths: readonly string[], home = HOST_HOME): HomeLend[] {
  const under = paths.filter((path) => path === home || path.startsWith(home + sep));
  if (under.includes(home)) {
    throw new LoopbackDropletError(`A loopback droplet needs ${home} itself from this machine (OoD's checkout or node is ${home}), but it binds a home of its own over ${home}: move the checkout into a directory below ${home}, or anywhere else`);
  }
  const outermost = under.filter((path) => !under.some((other) => other !== path && path.startsWith(other + sep)));
  return [...new Set(outermost)].sort().map((source) => ({ source, inHome: relative(home, source), directory: statSync(source).isDirectory() }));
}
