import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

export const sessionKeysPath = (dataDir: string) => join(dataDir, 'session-keys');

/**
 * The keys that sign session cookies, newest first: OOD_SESSION_KEYS when set (a rotation puts the new
 * key first and keeps the old one until its sessions have expired), otherwise one key generated once
 * into `<dataDir>/session-keys` (0600), so logins survive a restart.
 */
export function resolveSessionKeys(fromEnv: string[] | undefined, dataDir: string): string[] {
  if (fromEnv) {
    const short = fromEnv.find((key) => key.length < 32);
    if (short !== undefined) throw new ConfigError(`OOD_SESSION_KEYS: each key must be at least 32 characters (one is ${short.length}); make one with: openssl rand -base64 32`);
    return fromEnv;
  }
  const path = sessionKeysPath(dataDir);
  if (existsSync(path)) {
    const keys = readFileSync(path, 'utf8').split('\n').map((k) => k.trim()).filter(Boolean);
    if (keys.length > 0) return keys;
  }
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return [key];
}
