/**
 * Bench servers in processes of their own (so that what is measured never shares an event loop with
 * the load generator or the bench): started from the repository, known to be up once they print
 * `listening <port>`, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { waitUntil } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A file of test/bench/ by name. */
export const script = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** `node <args>` from the repository (so tsx and the sources resolve), once it prints `listening <port>`. */
export async function startChild(what: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const port = await waitUntil(`${what} to listen`, () => {
      if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
      return /listening (\d+)/.exec(out)?.[1];
    }, 15_000);
    return { child, port: Number(port) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  await gone;
}

/**
 * `entry` (a TypeScript file of test/bench/) bundled as bin/build.mjs bundles OoD (esbuild, ESM,
 * packages external, no kept names), into dist/bench/: a child that runs it measures the code users
 * run, not tsx's transform (which wraps every arrow function made in a hot path in a naming call).
 * Returns the bundle's path.
 */
export async function bundled(entry: string): Promise<string> {
  const outfile = join(ROOT, 'dist', 'bench', entry.replace(/\.ts$/, '.mjs'));
  await build({ entryPoints: [script(entry)], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning' });
  return outfile;
}
