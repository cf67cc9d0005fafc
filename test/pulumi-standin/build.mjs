// Bundles the stand-in into node_modules/.cache/pulumi-standin/<hash>/ so each `pulumi` call starts
// in plain node instead of compiling TypeScript through tsx every time. Packages stay external and
// resolve from the project's node_modules; `up`/`destroy` code (gRPC) is a separate chunk loaded only
// by those commands. The directory is named by a hash of the sources (given by bin/pulumi) and
// appears by one rename, so concurrent first calls never run half a bundle.
import { build } from 'esbuild';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = process.argv[2];
if (!target) throw new Error('usage: node build.mjs <output directory>');
mkdirSync(dirname(target), { recursive: true });
const tmp = `${target}.${process.pid}.tmp`;
await build({
  entryPoints: [join(here, 'main.ts')],
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outdir: tmp,
  logLevel: 'warning',
});
try {
  renameSync(tmp, target);
} catch (err) {
  // Another first call won the race with an identical bundle.
  if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  rmSync(tmp, { recursive: true, force: true });
}
