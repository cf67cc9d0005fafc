import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '../config/schema.js';

/** What `game.kind: vanilla` runs when `local.command` is not set. */
export const VANILLA_COMMAND: readonly string[] = ['java', '-Xmx2G', '-jar', 'server.jar', 'nogui'];

/** The argv that runs the game of `server` in its working directory. */
export function gameCommand(server: Pick<ServerConfig, 'game' | 'local'>): readonly string[] {
  if (server.local.command) return server.local.command;
  return server.game.kind === 'vanilla' ? VANILLA_COMMAND : bundledGameCommand();
}

/**
 * The argv that runs OoD's bundled Minecraft server (`controller/game/bundled/main.ts`, flying-squid
 * with vanilla-style RCON) with this Node and tsx, from any working directory.
 */
export function bundledGameCommand(): string[] {
  const tsxLoader = import.meta.resolve('tsx');
  return [process.execPath, '--import', tsxLoader, bundledEntry()];
}

function bundledEntry(): string {
  return join(packageRoot(), 'controller', 'game', 'bundled', 'main.ts');
}

/**
 * Whether `command` runs OoD's bundled game, which takes its port from the lobby as it binds
 * (`bundled/port-handover.ts`). Any other game (vanilla, a custom command) fails when its port is
 * taken, so the lobby lets go of the port before such a game starts.
 */
export function takesPortFromLobby(command: readonly string[]): boolean {
  return command.includes(bundledEntry());
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

/** What `ood config check` says about the game a server runs, and what looks wrong with it. */
export function describeGame(server: Pick<ServerConfig, 'game' | 'local'>): { game: string; warnings: string[] } {
  const warnings: string[] = [];
  const template = server.local.template;
  const hasJar = template !== undefined && existsSync(join(template, 'server.jar'));
  if (server.game.kind === 'bundled') {
    if (hasJar && !server.local.command) {
      warnings.push(`${template} has a server.jar, but game.kind is bundled: set game.kind: vanilla to run it`);
    }
    return { game: server.local.command ? `bundled kind, run as: ${server.local.command.join(' ')}` : "the bundled game (OoD's Minecraft 1.21.4 server, flying-squid; no download)", warnings };
  }
  const command = gameCommand(server);
  const usesJar = command.includes('server.jar');
  if (!template) warnings.push('game.kind is vanilla but local.template is not set: a fresh host starts empty, with no server.jar to run');
  else if (!existsSync(template)) warnings.push(`local.template ${template} does not exist`);
  else if (usesJar && !hasJar) warnings.push(`${template} has no server.jar: put Mojang's server.jar (and eula.txt) there`);
  return { game: `vanilla: ${command.join(' ')}${template ? ` from ${template}` : ''}`, warnings };
}
