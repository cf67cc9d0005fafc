import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileDurably } from './fs/durable.js';

const PATTERN = /^[0-9a-f]{8}$/;

/**
 * This installation's id: 8 random hex characters, made once and kept in `<dataDir>/installation-id`.
 * Two installations on one cloud account tell their things apart by it (snapshot names, later droplet
 * tags), so it is never derived from anything two installations could share, such as the config.
 */
export function installationId(dataDir: string): Promise<string> {
  // One read (or creation) per data dir and process: two first callers at once must not make two ids.
  let id = known.get(dataDir);
  if (!id) {
    id = readOrCreate(dataDir);
    known.set(dataDir, id);
    id.catch(() => known.delete(dataDir));
  }
  return id;
}

const known = new Map<string, Promise<string>>();

async function readOrCreate(dataDir: string): Promise<string> {
  const path = join(dataDir, 'installation-id');
  if (existsSync(path)) {
    const id = (await readFile(path, 'utf8')).trim();
    if (PATTERN.test(id)) return id;
    throw new Error(`${path} holds "${id.slice(0, 40)}", not 8 hex characters: restore it from a backup (snapshots are told apart by it), or remove it only if this installation has made no snapshot yet`);
  }
  const id = randomBytes(4).toString('hex');
  await mkdir(dataDir, { recursive: true });
  await writeFileDurably(path, `${id}\n`, 0o644);
  return id;
}
