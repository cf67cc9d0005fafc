import Router from '@koa/router';
import type { Controller } from '../controller.js';
import type { Logger } from '../log.js';

export interface DiscordRouteOptions {
  log: Logger;
}

/**
 * `POST /discord/interactions`: Discord's slash commands, buttons and autocomplete over HTTP (issue 21).
 * Without `discord` in the config the route is not there (404).
 */
export function discordRoutes(controller: Controller, options: DiscordRouteOptions): Router {
  void options;
  const router = new Router();
  if (!controller.config.discord) return router;
  return router;
}
