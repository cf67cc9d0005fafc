import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/readme.js';

const run = promisify(execFile);

/** README sends a fresh machine to `bash .ci/run`; run by someone who is not root it says so at once. */
describe('bash .ci/run', () => {
  it('not as root: says it needs root and why, installs nothing, and ends with its result line', async () => {
    // nobody (65534), as a reader who is not root would run it.
    const result = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '.ci/run'], { cwd: REPO_ROOT, timeout: 30_000 }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('.ci/run needs root');
    expect(result.stdout).not.toContain('installing');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });
});
