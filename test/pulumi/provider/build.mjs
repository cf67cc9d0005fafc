// Bundles the plugin into <cache>/<hash>/main.mjs so the engine starts it in plain node (no tsx) on
// every up, destroy and refresh. Packages stay external and resolve from the checkout's node_modules
// (the bundle lives under it). The directory appears by one rename, so concurrent first starts never
// run half a bundle, and another checkout has its own node_modules and so its own bundles.
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
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: join(tmp, 'main.mjs'),
  logLevel: 'warning',
});
try {
  renameSync(tmp, target);
} catch (err) {
  // Another first start won the race with an identical bundle.
  if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  rmSync(tmp, { recursive: true, force: true });
}
