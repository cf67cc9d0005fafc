import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../config/schema.js';
import { parseProperties } from '../minecraft/properties.js';

/**
 * Whether a server's lobby proves each join's account with the session server (lobby.authenticate):
 * as configured, else as the game itself does, so a lobby never lets a name wake a game that would
 * then refuse (or, offline, would have admitted) the same player.
 *
 * What "the game runs in online mode" means, by where the game comes from:
 * - local driver: the template's server.properties (`local.template`), which every fresh host starts
 *   from and OoD never changes that key of; without the key, the game's own default: vanilla's is
 *   true, the bundled game's false (controller/game/bundled/main.ts).
 * - digitalocean: the Ansible role writes `online-mode` from `minecraft_online_mode`, true unless the
 *   image was built otherwise, and OoD does not change it; OoD cannot read a droplet that does not
 *   exist yet, so an image built offline says so with `lobby.authenticate: false`.
 */
export function lobbyAuthenticates(server: Pick<ServerConfig, 'driver' | 'game' | 'local' | 'lobby'>, readTemplate: (path: string) => string | undefined = readIfThere): boolean {
  if (server.lobby.authenticate !== undefined) return server.lobby.authenticate;
  if (server.driver === 'digitalocean') return true;
  const gameDefault = server.game.kind === 'vanilla';
  const text = server.local.template ? readTemplate(join(server.local.template, 'server.properties')) : undefined;
  const value = text === undefined ? undefined : parseProperties(text).get('online-mode');
  return value === undefined || value === '' ? gameDefault : value.toLowerCase() === 'true';
}

function readIfThere(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
