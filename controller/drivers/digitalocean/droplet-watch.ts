import { INSTALLATION_TAG_PREFIX, installationTag } from '../../../infra/program.js';
import { CloudError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DoClient } from './api/client.js';
import type { Droplet } from './api/types.js';

/** How the watch tells this installation's droplet from another's with the same server id. */
export interface DropletOwner {
  /** This installation's id (controller/installation-id.ts): its droplets carry `ood:installation:<id>`. */
  installation: () => Promise<string>;
  /** The droplet the server's stack records; asked only about a droplet without any installation tag. */
  stackDropletId: () => Promise<number | null>;
  /** Where a foreign droplet is reported, once per droplet. */
  log: Logger;
}

/**
 * The server's droplet, found by its tag `ood-<server>`, from a list kept for `maxAgeMs`. Only this
 * installation's droplet counts: one tagged with its `ood:installation:<id>`, the one OoD remembers
 * (provisioned.json, an update's outputs), or, for a droplet made before that tag existed, the one the
 * stack records. Another installation may run a server with the same id on the same account: its
 * droplet is reported once and never returned, so no step powers it off, snapshots or deletes it. The loop
 * observes several times a second in transitions; asking DigitalOcean each time would spend the
 * 250-calls-a-minute budget in a minute. Steps that change the droplet call `stale()`, so the next
 * look asks again; SSH and the game's own probes tell what happens in between.
 */
export class DropletWatch {
  private cached: { droplets: Droplet[]; at: number } | undefined;
  /** The droplet OoD last knew of (seen listed, made by an update, or recorded in provisioned.json). */
  private knownId: number | undefined;
  /** Droplets without an installation tag, by whether the stack records them (asked once, again after a change). */
  private readonly stackVerdicts = new Map<number, boolean>();
  private readonly reported = new Set<number>();

  constructor(
    private readonly api: DoClient,
    readonly tag: string,
    private readonly maxAgeMs: number,
    private readonly owner: DropletOwner,
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
    this.stackVerdicts.clear();
  }

  /** A droplet OoD knows exists (an update just made it): a listing without it is checked by id. */
  remember(id: number): void {
    this.knownId = id;
    this.stale();
  }

  private async all(fresh: boolean): Promise<Droplet[]> {
    const at = this.now();
    if (!fresh && this.cached && at - this.cached.at < this.maxAgeMs) return this.cached.droplets;
    // Droplets being deleted linger in the list for a moment as `archive`; they are no host.
    let droplets = await this.own((await this.api.listDroplets(this.tag)).filter((d) => d.status !== 'archive'));
    if (droplets.length === 0 && this.knownId !== undefined) {
      // A listing can lag behind a create: "absent" is concluded only from a 404 for the droplet OoD knew of.
      const known = await this.api.getDroplet(this.knownId);
      if (known && known.status !== 'archive') droplets = [known];
    }
    this.knownId = droplets.length === 1 ? droplets[0]!.id : droplets.length === 0 ? undefined : this.knownId;
    this.cached = { droplets, at };
    return droplets;
  }

  private async own(listed: Droplet[]): Promise<Droplet[]> {
    const ours = installationTag(await this.owner.installation());
    const own: Droplet[] = [];
    for (const droplet of listed) {
      const foreign = await this.foreignBecause(droplet, ours);
      if (foreign === null) own.push(droplet);
      else if (!this.reported.has(droplet.id)) {
        this.reported.add(droplet.id);
        this.owner.log.warn(
          { droplet: droplet.id },
          `Droplet ${droplet.id} (${droplet.name}) is tagged ${this.tag} but is not this installation's: ${foreign}. ` +
            'OoD never powers it off, snapshots or deletes it; if it is a leftover of this installation, tag it ' +
            `${ours} in the DigitalOcean console`,
        );
      }
    }
    return own;
  }

  /** Why the droplet is another installation's, or null when it is this one's. */
  private async foreignBecause(droplet: Droplet, ours: string): Promise<string | null> {
    if (droplet.id === this.knownId || droplet.tags.includes(ours)) return null;
    const other = droplet.tags.find((t) => t.startsWith(INSTALLATION_TAG_PREFIX));
    if (other !== undefined) return `it carries ${other}, another installation's tag (this one's is ${ours})`;
    // Made before droplets carried the installation tag: this server's only if its stack records it.
    let recorded = this.stackVerdicts.get(droplet.id);
    if (recorded === undefined) {
      recorded = (await this.owner.stackDropletId()) === droplet.id;
      this.stackVerdicts.set(droplet.id, recorded);
    }
    return recorded ? null : `it carries no installation tag and stack ${this.tag} does not record it`;
  }
}
