#!/usr/bin/env node
// The `ood` command. It runs the esbuild bundle dist/ood.mjs, building it first when it is missing or
// older than any source file, so every call runs current source without paying for the TypeScript
// loader on each call (about 3 s through tsx). OOD_FROM_SOURCE=1 runs the TypeScript through tsx.
import { pathToFileURL } from 'node:url';
import { bundle, ensureBuilt, entry } from './build.mjs';

if (process.env.OOD_FROM_SOURCE) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(entry).href);
} else {
  await ensureBuilt();
  await import(pathToFileURL(bundle).href);
}
