import { INSTALLATION_TAG_PREFIX } from '../../../infra/program.js';
import { messageOf } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DoClient } from './api/client.js';
import type { Snapshot } from './api/types.js';
import { removalProof } from './orphan-proof.js';

export interface Orphan {
  /** `foreign`: a droplet of another installation (its `ood:installation:<id>` tag); reported, never touched. */
  kind: 'droplet' | 'stack' | 'builder' | 'foreign';
  /** The server it looks like it belongs to, when its tag names one. */
  server: string | null;
  dropletId: number;
  message: string;
  /** Whether OoD deleted it (only with `orphans.remove`, and only on proof: see orphan-proof.ts). */
  removed: boolean;
}

export interface OwnedDroplets {
  server: string;
  /** The droplet id the server's stack records, or null when it records none. */
  stackDropletId: () => Promise<number | null>;
}

/**
 * Droplets tagged `ood` that no stack owns (they bill, and nobody stops them), and stacks whose droplet
 * is gone. Pure reading unless `remove` is set; then a stray droplet is deleted only when it is this
 * installation's, off, and a snapshot of it was taken after it last ran (orphan-proof.ts): never
 * destroy what is not proven saved. Another installation's droplet is reported as `foreign` only.
 */
export async function findOrphans(
  api: DoClient,
  servers: readonly OwnedDroplets[],
  options: { remove: boolean; log: Logger; buildsRunning?: () => ReadonlySet<string>; /** This installation's id (controller/installation-id.ts). */ installation: string },
): Promise<Orphan[]> {
  const droplets = await api.listDroplets('ood');
  const owned = new Map<string, number | null>();
  for (const s of servers) owned.set(s.server, await s.stackDropletId());
  const orphans: Orphan[] = [];
  let snapshots: Snapshot[] | undefined;
  for (const droplet of droplets) {
    const server = droplet.tags.find((t) => t.startsWith('ood-') && owned.has(t.slice(4)))?.slice(4) ?? null;
    if (server !== null && owned.get(server) === droplet.id) continue;
    const other = droplet.tags.find((t) => t.startsWith(INSTALLATION_TAG_PREFIX) && t !== `${INSTALLATION_TAG_PREFIX}${options.installation}`);
    if (other !== undefined) {
      const message =
        `Droplet ${droplet.id} (${droplet.name}, ${droplet.status}) belongs to installation ${other.slice(INSTALLATION_TAG_PREFIX.length)} (tag ${other}), ` +
        `not this one (${options.installation}); it is never touched by this installation: if nobody runs that installation any more, delete it in the DigitalOcean console`;
      orphans.push({ kind: 'foreign', server, dropletId: droplet.id, message, removed: false });
      continue;
    }
    const why = server === null ? `is tagged ood but belongs to no configured server` : `is tagged ood-${server} but stack ood-${server} does not own it`;
    let removed = false;
    let message = `Droplet ${droplet.id} (${droplet.name}, ${droplet.status}) ${why}; it is billed until deleted`;
    if (options.remove) {
      snapshots ??= await api.listSnapshots();
      const proof = await removalProof(api, droplet, snapshots, options.installation);
      if (proof.saved) {
        try {
          await api.deleteDroplet(droplet.id);
          removed = true;
          message += `; deleted it (snapshot ${proof.snapshot.name}, taken ${proof.snapshot.created_at} after its last power-on (${proof.lastRun.type} at ${proof.lastRun.completed_at}), holds its disk)`;
        } catch (err) {
          message += `; could not delete it: ${messageOf(err)}`;
        }
      } else {
        message += `; not deleted: ${proof.reason}`;
      }
    }
    orphans.push({ kind: 'droplet', server, dropletId: droplet.id, message, removed });
  }
  const present = new Set(droplets.map((d) => d.id));
  for (const [server, id] of owned) {
    if (id !== null && !present.has(id)) {
      orphans.push({ kind: 'stack', server, dropletId: id, removed: false, message: `Stack ood-${server} records droplet ${id}, which no longer exists; \`pulumi refresh\` on that stack forgets it` });
    }
  }
  if (options.buildsRunning) orphans.push(...(await strayBuilders(api, new Set(owned.keys()), options.buildsRunning(), options.remove, options.installation)));
  for (const o of orphans) options.log.warn({ droplet: o.dropletId, server: o.server }, o.message);
  return orphans;
}

/**
 * Builder droplets (`ood-image-<server>`, tagged `ood-image-builder`) whose `ood image build` no longer
 * runs (killed, or its clean-up failed). A builder holds no session's world, only the image being
 * built, so with `remove` it is deleted; only this installation's builders (its tag) named for a
 * configured server are touched: another installation's build of a server with the same id may be
 * running right now, and this one cannot know.
 */
async function strayBuilders(api: DoClient, servers: ReadonlySet<string>, running: ReadonlySet<string>, remove: boolean, installation: string): Promise<Orphan[]> {
  const orphans: Orphan[] = [];
  const ours = `${INSTALLATION_TAG_PREFIX}${installation}`;
  for (const droplet of await api.listDroplets('ood-image-builder')) {
    const server = droplet.name.startsWith('ood-image-') && servers.has(droplet.name.slice('ood-image-'.length)) ? droplet.name.slice('ood-image-'.length) : null;
    const other = droplet.tags.find((t) => t.startsWith(INSTALLATION_TAG_PREFIX) && t !== ours);
    if (other) {
      const message =
        `Builder droplet ${droplet.id} (${droplet.name}, ${droplet.status}) belongs to installation ${other.slice(INSTALLATION_TAG_PREFIX.length)} (tag ${other}), ` +
        `not this one (${installation}); it is never touched by this installation: if nobody builds there any more, delete it in the DigitalOcean console`;
      orphans.push({ kind: 'foreign', server, dropletId: droplet.id, message, removed: false });
      continue;
    }
    if (server !== null && running.has(server)) continue;
    let message = `Builder droplet ${droplet.id} (${droplet.name}, ${droplet.status}) is left by an \`ood image build\` that no longer runs; it is billed until deleted`;
    let removed = false;
    if (remove && server !== null && droplet.tags.includes(ours)) {
      try {
        await api.deleteDroplet(droplet.id);
        removed = true;
        message += `; deleted it (a builder holds no session; run \`pulumi stack rm ood-image-${server} --force\` if its stack remains)`;
      } catch (err) {
        message += `; could not delete it: ${messageOf(err)}`;
      }
    } else if (server === null) {
      message += '; not deleted: it is named for no configured server';
    } else if (!droplet.tags.includes(ours)) {
      message += `; not deleted: it carries no installation tag, so whose build it is cannot be told; delete it in the console if it is this installation's`;
    } else {
      message += `; delete it in the console or run \`pulumi destroy --stack ood-image-${server}\``;
    }
    orphans.push({ kind: 'builder', server, dropletId: droplet.id, message, removed });
  }
  return orphans;
}

/**
 * Looks for orphans now and then (every `everyMs`, first right after start) and keeps the last answer
 * for `ood status` and the API. A failed look is logged and tried again at the next turn.
 */
export class OrphanWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private last: { at: number; orphans: Orphan[] } | null = null;

  constructor(
    private readonly look: () => Promise<Orphan[]>,
    private readonly log: Logger,
    private readonly everyMs = 5 * 60_000,
  ) {}

  start(): void {
    this.schedule(1_000);
  }

  latest(): { at: number; orphans: Orphan[] } | null {
    return this.last;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.running = this.look().then(
        (orphans) => void (this.last = { at: Date.now(), orphans }),
        (err: unknown) => this.log.warn({ err: messageOf(err) }, 'Could not look for orphaned droplets; trying again later'),
      );
      void this.running.finally(() => {
        if (this.timer !== undefined) this.schedule(this.everyMs);
      });
    }, ms);
    this.timer.unref();
  }
}
