import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What OoD runs with no config file: one server `world` on the local driver, data under `./.ood/`.
 * Its game is OoD's own test Minecraft server (flying-squid with vanilla-style RCON), so that
 * `npm start` is playable without downloading anything from Mojang. A 1.21.4 client can join it.
 */
export const EMBEDDED_DATA_DIR = '.ood';

export function embeddedDefault(): unknown {
  return {
    dataDir: `./${EMBEDDED_DATA_DIR}`,
    servers: [
      {
        id: 'world',
        driver: 'local',
        local: { command: testServerCommand() },
      },
    ],
  };
}

/** The argv that runs `test/mc-server/main.ts` with this Node and tsx, from any working directory. */
export function testServerCommand(): string[] {
  const tsxLoader = import.meta.resolve('tsx');
  const entry = join(packageRoot(), 'test', 'mc-server', 'main.ts');
  return [process.execPath, '--import', tsxLoader, entry];
}

/** OoD's package directory, found upwards from this module (which may be bundled into dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}
