import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../bin/ood.mjs', import.meta.url));
const run = promisify(execFile);

/** Runs the `ood` CLI as a user would, returning its exit code and output instead of throwing. */
export async function ood(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
