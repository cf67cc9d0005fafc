import { join } from 'node:path';

/** Where a running controller says where it listens, so `ood status` finds it even on a random port. */
export const controllerInfoPath = (dataDir: string) => join(dataDir, 'controller.json');
