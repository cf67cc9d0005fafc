import { CloudError } from '../../errors.js';
import type { DoClient } from './api/client.js';
import type { Droplet } from './api/types.js';

/**
 * The server's droplet, found by its tag `ood-<server>`, from a list kept for `maxAgeMs`. The loop
 * observes several times a second in transitions; asking DigitalOcean each time would spend the
 * 250-calls-a-minute budget in a minute. Steps that change the droplet call `stale()`, so the next
 * look asks again; SSH and the game's own probes tell what happens in between.
 */
export class DropletWatch {
  private cached: { droplets: Droplet[]; at: number } | undefined;
  /** The droplet OoD last knew of (seen listed, made by an update, or recorded in provisioned.json). */
  private knownId: number | undefined;

  constructor(
    private readonly api: DoClient,
    readonly tag: string,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The droplet of this server, or null. Two droplets with its tag break invariant 2: a person must look. */
  async current(fresh = false): Promise<Droplet | null> {
    const droplets = await this.all(fresh);
    if (droplets.length > 1) {
      throw new CloudError(
        `Found ${droplets.length} droplets tagged ${this.tag} (${droplets.map((d) => `${d.id} ${d.status}`).join(', ')}); ` +
          'a server must have at most one. Snapshot and delete the extra one by hand, then press Start or Stop',
        false,
      );
    }
    return droplets[0] ?? null;
  }

  /** The last list fetched, without asking (for `address()`). */
  peek(): Droplet | null {
    return this.cached?.droplets[0] ?? null;
  }

  stale(): void {
    this.cached = undefined;
  }

  /** A droplet OoD knows exists (an update just made it): a listing without it is checked by id. */
  remember(id: number): void {
    this.knownId = id;
    this.cached = undefined;
  }

  private async all(fresh: boolean): Promise<Droplet[]> {
    const at = this.now();
    if (!fresh && this.cached && at - this.cached.at < this.maxAgeMs) return this.cached.droplets;
    // Droplets being deleted linger in the list for a moment as `archive`; they are no host.
    let droplets = (await this.api.listDroplets(this.tag)).filter((d) => d.status !== 'archive');
    if (droplets.length === 0 && this.knownId !== undefined) {
      // A listing can lag behind a create: "absent" is concluded only from a 404 for the droplet OoD knew of.
      const known = await this.api.getDroplet(this.knownId);
      if (known && known.status !== 'archive') droplets = [known];
    }
    this.knownId = droplets.length === 1 ? droplets[0]!.id : droplets.length === 0 ? undefined : this.knownId;
    this.cached = { droplets, at };
    return droplets;
  }
}
