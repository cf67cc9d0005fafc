import { parse } from 'yaml';

export interface HostKey {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), ending in a newline. */
  privateKey: string;
  publicKey: string;
}

/**
 * The ed25519 host key a droplet's cloud-config gives (`ssh_keys.ed25519_private` and
 * `ed25519_public`), as cloud-init installs it on a real droplet; undefined when the user data has
 * none (cloud-init then generates one). Malformed cloud-config throws: cloud-init would skip it and
 * boot with a random key that OoD then refuses, and a test learns more from the parse error.
 */
export function hostKeyFromUserData(userData: string): HostKey | undefined {
  if (!userData.startsWith('#cloud-config')) return undefined;
  let doc: unknown;
  try {
    doc = parse(userData);
  } catch (err) {
    throw new Error(`The user data is not valid cloud-config YAML: ${(err as Error).message}`, { cause: err });
  }
  const keys = (doc as { ssh_keys?: Record<string, unknown> } | null)?.ssh_keys;
  const privateKey = keys?.ed25519_private;
  const publicKey = keys?.ed25519_public;
  if (privateKey === undefined && publicKey === undefined) return undefined;
  if (typeof privateKey !== 'string' || typeof publicKey !== 'string') {
    throw new Error('The cloud-config ssh_keys needs both ed25519_private and ed25519_public as strings');
  }
  return { privateKey: privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`, publicKey: publicKey.trim() };
}
