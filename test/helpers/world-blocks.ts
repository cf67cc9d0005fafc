import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Vec3 } from 'vec3';

const require = createRequire(import.meta.url);

interface Chunk {
  getBlock(pos: Vec3): { name: string };
}
interface AnvilProvider {
  load(chunkX: number, chunkZ: number): Promise<Chunk | null>;
  close(): Promise<void>;
}

/**
 * The block at `at` in a world folder on disk, read from its region files the way the bundled game
 * (flying-squid) writes them, with no game running: what a copy or an archive holds, as it is.
 * undefined when its chunk was never saved.
 */
export async function blockOnDisk(worldDir: string, at: Vec3, version = '1.21.4'): Promise<string | undefined> {
  const registry = (require('prismarine-registry') as (v: string) => unknown)(version);
  const { Anvil } = require('prismarine-provider-anvil') as { Anvil: (registry: unknown) => new (folder: string) => AnvilProvider };
  const anvil = new (Anvil(registry))(join(worldDir, 'region'));
  try {
    const chunk = await anvil.load(Math.floor(at.x / 16), Math.floor(at.z / 16));
    return chunk?.getBlock(new Vec3(((at.x % 16) + 16) % 16, at.y, ((at.z % 16) + 16) % 16)).name;
  } finally {
    await anvil.close();
  }
}
