import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's own mirror: the one network place besides npm these machines reach. */
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** Debian 13: it has openjdk-21-jre-headless, which Minecraft 1.20.5 and later need (bookworm has 17 only). */
export const DEBIAN_SUITE = 'trixie';

export interface DebianRootOptions {
  suite?: string;
  /** Packages debootstrap adds to the minimal base (`--include`). */
  include?: string[];
}

const CACHE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.cache', 'ood-debian-root');

/**
 * A fresh Debian root in a new temp directory: made once by `debootstrap --variant=minbase` and kept
 * as a tarball in node_modules/.cache (never committed), then unpacked for each caller, so a test
 * always starts from the same untouched root. The caller removes the directory (`rmSync(dir, …)`).
 */
export async function debianRoot(options: DebianRootOptions = {}): Promise<string> {
  const tarball = await cachedDebianRoot(options);
  const root = mkdtempSync(join(tmpdir(), `ood-${options.suite ?? DEBIAN_SUITE}-root-`));
  await run('tar', ['--extract', '--file', tarball, '--numeric-owner', '--directory', root], { timeout: 300_000 });
  return root;
}

/**
 * The cached tarball of the root `options` describe, made by debootstrap when it is missing (minutes on
 * a fresh machine). Call it in a `beforeAll` when a root is first needed inside something timed: a
 * rootfs droplet made while the provider waits for its create would otherwise spend the whole
 * debootstrap inside that wait.
 */
export async function cachedDebianRoot(options: DebianRootOptions = {}): Promise<string> {
  const suite = options.suite ?? DEBIAN_SUITE;
  const include = [...(options.include ?? ['python3', 'ca-certificates'])].sort();
  const key = createHash('sha256').update(JSON.stringify({ suite, include })).digest('hex').slice(0, 16);
  const tarball = join(CACHE, `${suite}-${key}.tar`);
  if (!existsSync(tarball)) {
    mkdirSync(CACHE, { recursive: true });
    const build = mkdtempSync(join(tmpdir(), 'ood-debootstrap-'));
    try {
      await run('debootstrap', ['--variant=minbase', `--include=${include.join(',')}`, suite, build, DEBIAN_MIRROR], { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
      const partial = `${tarball}.${process.pid}.partial`;
      await run('tar', ['--create', '--file', partial, '--numeric-owner', '--directory', build, '.'], { timeout: 300_000 });
      renameSync(partial, tarball);
    } finally {
      rmSync(build, { recursive: true, force: true });
    }
  }
  return tarball;
}
