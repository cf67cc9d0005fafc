/**
 * What OoD runs with no config file: one server `world` on the local driver, data under `./.ood/`.
 * Its game is the schema's default, `game.kind: bundled` (OoD's own Minecraft server, flying-squid
 * with vanilla-style RCON), so that `npm start` is playable without downloading anything from Mojang.
 * A 1.21.4 client can join it.
 */
export const EMBEDDED_DATA_DIR = '.ood';

export function embeddedDefault(): unknown {
  return {
    dataDir: `./${EMBEDDED_DATA_DIR}`,
    servers: [{ id: 'world', driver: 'local' }],
  };
}
