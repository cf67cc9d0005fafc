import { spawn } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';
import { LoopbackDropletError } from './errors.js';

/**
 * Copies a droplet's disk into a tar.gz, as a DigitalOcean snapshot copies the disk. GNU tar, not the
 * npm package: a running droplet's game may write while tar reads (DO snapshots running droplets too),
 * and tar's exit code 1 ("file changed as we read it") is then the crash-consistent copy DO would
 * make, where the npm package fails on a file that shrank. Written beside `archive` and renamed.
 */
export async function archiveDisk(label: string, disk: string, archive: string, timeoutMs: number): Promise<{ bytes: number }> {
  const partial = `${archive}.partial`;
  try {
    await runTar(['--create', '--gzip', '--file', partial, '--directory', disk, '--warning=no-file-changed', '.'], [0, 1], timeoutMs);
    await rename(partial, archive);
  } catch (err) {
    await rm(partial, { force: true });
    throw new LoopbackDropletError(`Could not snapshot the disk of ${label} (${disk}) into ${archive}: ${(err as Error).message}`, { cause: err });
  }
  return { bytes: (await stat(archive)).size };
}

/** Extracts a snapshot made by `archiveDisk` into an empty disk directory. */
export async function restoreDisk(label: string, archive: string, disk: string, timeoutMs: number): Promise<void> {
  try {
    await runTar(['--extract', '--gzip', '--file', archive, '--directory', disk], [0], timeoutMs);
  } catch (err) {
    throw new LoopbackDropletError(`Could not restore snapshot ${archive} onto the disk of ${label} (${disk}): ${(err as Error).message}`, { cause: err });
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
