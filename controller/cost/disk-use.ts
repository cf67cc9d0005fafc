import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { humanBytes } from '../cli/human-bytes.js';

/**
 * What the world versions kept on this machine take on its disk: every server's local archives
 * (`servers/<id>/archives/`) and copies (`servers/<id>/copies/`, made during play and at each stop).
 * They cost no money at DigitalOcean, but they are the part of OoD's bill that this machine pays.
 */
export interface DiskUse {
  archivesBytes: number;
  copiesBytes: number;
  /** The two together. */
  bytes: number;
}

/** Only whole versions: a `.partial` being written is not one yet, and a crash's leftover is removed by the next write. */
const VERSION = /^ood-\d+\.tar\.gz$/;

/** The bytes of the versions in `dir`; a missing dir holds none, and a file pruned while listed counts as gone. */
function versionBytes(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let bytes = 0;
  for (const name of names) {
    if (!VERSION.test(name)) continue;
    const st = statSync(join(dir, name), { throwIfNoEntry: false });
    if (st?.isFile()) bytes += st.size;
  }
  return bytes;
}

/** Read when the meter computes a month (at most once a second): two small directories per server. */
export function diskUse(dataDir: string, servers: readonly string[]): DiskUse {
  let archivesBytes = 0;
  let copiesBytes = 0;
  for (const id of servers) {
    archivesBytes += versionBytes(join(dataDir, 'servers', id, 'archives'));
    copiesBytes += versionBytes(join(dataDir, 'servers', id, 'copies'));
  }
  return { archivesBytes, copiesBytes, bytes: archivesBytes + copiesBytes };
}

/** The disk figure as `ood cost` and the overview's cost line say it (one wording for both). */
export function diskWords(d: { bytes: number; archives: number; copies: number }): string {
  return `world versions on this machine ${humanBytes(d.bytes)} (archives ${humanBytes(d.archives)}, copies ${humanBytes(d.copies)})`;
}
