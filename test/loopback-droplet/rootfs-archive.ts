import { spawn } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';
import { LoopbackDropletError } from './errors.js';

/**
 * What a snapshot of a rootfs droplet leaves out: the contents of the API file systems and of the
 * tmpfs a booted machine mounts there (the directories themselves stay, as mount points).
 */
const EXCLUDED = ['./proc/*', './sys/*', './dev/*', './run/*', './tmp/*'];

/**
 * Copies a whole root into a zstd-compressed tar, as a DigitalOcean snapshot copies the disk. GNU tar
 * with numeric owners, so the root's own users (`minecraft`) keep their ids whatever this host calls
 * them; exit code 1 ("file changed as we read it") is the crash-consistent copy DO makes of a running
 * droplet. zstd, not gzip: a root with Java is hundreds of megabytes, and gzip would take most of a
 * minute of the driver's snapshot wait. Written beside `archive` and renamed.
 */
export async function archiveRoot(label: string, root: string, archive: string, timeoutMs: number): Promise<{ bytes: number }> {
  const partial = `${archive}.partial`;
  try {
    const excludes = EXCLUDED.map((pattern) => `--exclude=${pattern}`);
    await runTar(['--create', '--zstd', '--numeric-owner', '--xattrs', '--acls', '--file', partial, '--directory', root, '--warning=no-file-changed', ...excludes, '.'], [0, 1], timeoutMs);
    await rename(partial, archive);
  } catch (err) {
    await rm(partial, { force: true });
    throw new LoopbackDropletError(`Could not snapshot the root of ${label} (${root}) into ${archive}: ${(err as Error).message}`, { cause: err });
  }
  return { bytes: (await stat(archive)).size };
}

/** Unpacks a root archive (any compression GNU tar recognises: the seeded base image may be plain tar). */
export async function restoreRoot(label: string, archive: string, root: string, timeoutMs: number): Promise<void> {
  try {
    await runTar(['--extract', '--numeric-owner', '--same-permissions', '--xattrs', '--acls', '--file', archive, '--directory', root], [0], timeoutMs);
  } catch (err) {
    throw new LoopbackDropletError(`Could not restore snapshot ${archive} onto the root of ${label} (${root}): ${(err as Error).message}`, { cause: err });
  }
}

function runTar(args: string[], okCodes: number[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.setEncoding('utf8');
    tar.stderr.on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => tar.kill('SIGKILL'), timeoutMs);
    tar.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    tar.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== null && okCodes.includes(code)) resolve();
      else reject(new Error(`tar ${signal === 'SIGKILL' ? `did not finish within ${timeoutMs} ms` : `failed (${signal ?? `exit ${code}`})`}: ${stderr.trim().slice(-400)}`));
    });
  });
}
