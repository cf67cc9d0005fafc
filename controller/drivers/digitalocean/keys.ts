import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { stringify } from 'yaml';
import { writeFileDurably } from '../../fs/durable.js';

/** The two key pairs of one server: OoD's login key, and the host key its droplets present. */
export interface ServerKeys {
  clientPrivate: string;
  clientPublic: string;
  hostPrivate: string;
  hostPublic: string;
}

/**
 * Loads the server's keys from `dir`, generating each pair once (0600). They never change afterwards:
 * the host key travels in the droplet's user data, and a changed user data makes Pulumi replace a droplet.
 */
export async function loadOrCreateKeys(dir: string, server: string): Promise<ServerKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [clientPrivate, clientPublic] = await pair(join(dir, 'id_ed25519'), `ood-${server}`);
  const [hostPrivate, hostPublic] = await pair(join(dir, 'host_ed25519'), `ood-${server}-host`);
  return { clientPrivate, clientPublic, hostPrivate, hostPublic };
}

/**
 * A new ed25519 pair in OpenSSH format. ssh2's generator drops a leading zero byte of the public key
 * (about one pair in 256), leaving a pair that neither ssh2 nor sshd can read, so a pair is only
 * returned once it parses back; the next draw is almost always good.
 */
export function sshKeyPair(comment?: string): { private: string; public: string } {
  for (let attempt = 1; ; attempt++) {
    // ssh2 is CommonJS: the default export, which Node's ESM loader always offers.
    const generated = ssh2.utils.generateKeyPairSync('ed25519', comment === undefined ? {} : { comment });
    if (readable(generated.private) && readable(generated.public)) return generated;
    if (attempt === 20) throw new Error('ssh2 made 20 unreadable ed25519 key pairs in a row');
  }
}

const readable = (key: string) => !(ssh2.utils.parseKey(key) instanceof Error);

async function pair(path: string, comment: string): Promise<[string, string]> {
  // A stored pair that does not parse (made before the check above) could never log in: replace it.
  const stored = existsSync(path) && existsSync(`${path}.pub`) && readable(await readFile(path, 'utf8'));
  if (!stored) {
    const generated = sshKeyPair(comment);
    // The public half first: a private key without it is regenerated, never half-used.
    await writeFileDurably(`${path}.pub`, `${generated.public}\n`, 0o644);
    await writeFileDurably(path, generated.private, 0o600);
  }
  return [await readFile(path, 'utf8'), (await readFile(`${path}.pub`, 'utf8')).trim()];
}

/**
 * The droplet's user data: cloud-init installs OoD's host key instead of generating new ones, so the
 * first SSH connection already knows whom it talks to.
 */
export function userData(keys: ServerKeys): string {
  const config = {
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: keys.hostPrivate, ed25519_public: keys.hostPublic },
  };
  return `#cloud-config\n${stringify(config)}`;
}
