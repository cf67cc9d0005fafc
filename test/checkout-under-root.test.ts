import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/readme.js';

/**
 * The droplet tests from a checkout cloned as root (`git clone … ~/ood`), as a user who reads README
 * does it. Every loopback droplet binds a home of its own over /root, which once hid such a checkout
 * from the droplet's supervisord (`minecraft: ERROR (spawn error)`): 16 DigitalOcean and image tests
 * failed from there and passed from /work. This runs a loopback droplet's own test and one
 * DigitalOcean test file from a copy of this working tree under /root, whose node_modules is this
 * one's, bound (not linked: the real path must be under /root too) in a mount namespace of the run's
 * own, so nothing outside it sees the bind.
 */
// do-cost runs its controller in this process: no 20 s limit on a child controller's start, which a
// machine loaded by other runs can miss whatever the checkout's path.
const FILES = ['test/loopback-droplet/loopback-machines.test.ts', 'test/do-cost.test.ts'];
const asRoot = process.getuid?.() === 0;
if (!asRoot) console.log('checkout-under-root: skipped, it needs root (a checkout under /root, mount namespaces), as the droplet tests do');

describe.skipIf(!asRoot)('a checkout under /root', () => {
  const checkout = asRoot ? mkdtempSync('/root/ood-checkout-') : '';
  afterAll(() => {
    // node_modules is bound only inside the run's namespace, gone with it: here it is an empty directory.
    if (checkout) rmSync(checkout, { recursive: true, force: true });
  });

  it('runs the loopback droplet and DigitalOcean tests', async () => {
    copyWorkingTree(checkout);
    mkdirSync(join(checkout, 'node_modules'));
    // Vitest's own variables would tell the inner run it is a worker of this one.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && !['NODE_OPTIONS', 'TEST', 'FORCE_COLOR'].includes(key))) as Record<string, string>;
    env.NO_COLOR = '1';
    // The `ood` bundle first, as `npm run build` makes it: else the first `ood serve` of the run builds
    // it and, on a loaded machine, misses the 20 s its test gives it to start.
    const script = 'mount --bind "$1" "$2/node_modules" && cd "$2" && node=$3 && shift 3 && "$node" bin/build.mjs && exec "$node" node_modules/vitest/vitest.mjs run "$@"';
    const { code, output: raw } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', join(REPO_ROOT, 'node_modules'), checkout, process.execPath, ...FILES], env, 20 * 60_000);
    const output = stripVTControlCharacters(raw);
    const tail = output.slice(-6000);
    expect(output, tail).not.toMatch(/spawn error/);
    expect(code, tail).toBe(0);
    expect(output, tail).toMatch(/Test Files\s+2 passed \(2\)/);
  }, 21 * 60_000);
});

/** This working tree's files (tracked and new, not ignored), as they are now, into `dir`. */
function copyWorkingTree(dir: string): void {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const files = listed.split('\0').filter((file) => file && existsSync(join(REPO_ROOT, file)));
  const list = join(dir, '.files');
  writeFileSync(list, files.join('\0'));
  // --ignore-failed-read: a file another process removes between the listing and the copy is left out.
  execFileSync('bash', ['-c', 'set -o pipefail; tar --create --ignore-failed-read --directory "$2" --null --files-from "$1" | tar --extract --directory "$3"', 'bash', list, REPO_ROOT, dir]);
  rmSync(list);
}

function run(file: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const add = (chunk: Buffer) => (output += chunk.toString('utf8'));
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    // A hung run is cut here; its droplets die with it (their power cord: test/loopback-droplet/README.md).
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
