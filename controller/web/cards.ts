import { serverJson } from '../api/server-json.js';
import type { Config } from '../config/schema.js';
import type { Controller } from '../controller.js';
import type { ServerView } from '../reconcile/loop.js';
import type { ServerCard } from './pages/server-card.js';

/** The cards' data: each server's JSON, how long its starts and stops usually take, and where it runs. */
export class ServerCards {
  constructor(
    private readonly controller: Controller,
    private readonly config: Config,
  ) {}

  all(): ServerCard[] {
    return this.controller.views().map((view) => this.card(view));
  }

  one(id: string): ServerCard {
    return this.card(this.controller.view(id));
  }

  private card(view: ServerView): ServerCard {
    const { id, phaseSince } = view.state;
    const estimate = this.controller.estimates.of(id, phaseSince);
    const server = this.config.servers.find((s) => s.id === id)!;
    return {
      json: serverJson(view),
      typicalStartMs: estimate.start,
      typicalStopMs: estimate.stop,
      where: server.driver === 'digitalocean' ? { driver: 'digitalocean', region: server.digitalocean.region, size: server.digitalocean.size } : { driver: 'local' },
    };
  }
}
