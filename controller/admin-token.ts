import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const adminTokenPath = (dataDir: string) => join(dataDir, 'admin-token');

/**
 * The token scripts and the CLI send as `Authorization: Bearer …`: `OOD_ADMIN_TOKEN` when the operator
 * set one, otherwise one OoD made and keeps in `<dataDir>/admin-token` (mode 0600), so a fresh
 * `npm start` is usable without printing a secret to the terminal.
 */
export function resolveAdminToken(fromEnv: string | undefined, dataDir: string): { token: string; source: 'env' | 'file' } {
  if (fromEnv) return { token: fromEnv, source: 'env' };
  const path = adminTokenPath(dataDir);
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), source: 'file' };
  mkdirSync(dirname(path), { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return { token, source: 'file' };
}

/** For CLI commands: the env's token, or the file a local controller wrote; undefined when neither. */
export function readAdminToken(fromEnv: string | undefined, dataDir: string): string | undefined {
  if (fromEnv) return fromEnv;
  const path = adminTokenPath(dataDir);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
