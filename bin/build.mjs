// Builds the `ood` bundle: dist/ood.mjs plus lazily loaded chunks (the controller, the API and their
// packages load only for `ood serve`, so client commands such as `ood status` start fast).
// Run directly it builds; bin/ood.mjs calls ensureBuilt() to build only when a source is newer.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const entry = join(root, 'controller', 'cli', 'main.ts');
/** Runs Pulumi operations for the controller in a process of their own (infra/stack-worker.ts). */
const workerEntry = join(root, 'infra', 'stack-worker.ts');
const dist = join(root, 'dist');
export const bundle = join(dist, 'ood.mjs');

/** The newest modification time of the CLI's sources (controller/, infra/ and image/ .ts and .js files, package.json). */
function newestSources() {
  return Math.max(...['controller', 'infra', 'image'].map((dir) => newestSource(join(root, dir))));
}

function newestSource(dir, newest = statSync(join(root, 'package.json')).mtimeMs) {
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    if (item.isDirectory()) newest = newestSource(path, newest);
    // .js too: the pages' relative-time formatter is one .js file that the bundle imports as well.
    else if (/\.(ts|js)$/.test(item.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds into a temp directory, moves the chunks (content-hashed names, so never half-replaced) into
 * dist/chunks/, and renames the entry into place last: a call running at the same moment sees the old
 * bundle or the new one, whole.
 */
export async function build() {
  const { build: esbuild } = await import('esbuild');
  const temp = join(dist, `.build-${process.pid}`);
  try {
    await esbuild({
      entryPoints: { ood: entry, 'stack-worker': workerEntry },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: temp,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      logLevel: 'warning',
    });
    mkdirSync(join(dist, 'chunks'), { recursive: true });
    for (const chunk of readdirSync(join(temp, 'chunks'))) {
      if (!existsSync(join(dist, 'chunks', chunk))) renameSync(join(temp, 'chunks', chunk), join(dist, 'chunks', chunk));
    }
    renameSync(join(temp, 'stack-worker.mjs'), join(dist, 'stack-worker.mjs'));
    renameSync(join(temp, 'ood.mjs'), bundle);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

export async function ensureBuilt() {
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSources()) await build();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
