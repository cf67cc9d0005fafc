import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const BIN = fileURLToPath(new URL('../../bin/ood.mjs', import.meta.url));
const run = promisify(execFile);

/** Runs the `ood` CLI as a user would, returning its exit code and output instead of throwing. */
export async function ood(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; /** Written to its stdin, which then ends (a pipe, not a terminal). */ input?: string } = {}) {
  try {
    const running = run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 30_000,
    });
    if (options.input !== undefined) running.child.stdin?.end(options.input);
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
