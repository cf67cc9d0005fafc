#!/usr/bin/env node
// The `ood` command: runs the TypeScript CLI through tsx's loader, resolved from this package so it
// works from any working directory.
import { register } from 'tsx/esm/api';

register();
await import('../controller/cli/main.ts');
