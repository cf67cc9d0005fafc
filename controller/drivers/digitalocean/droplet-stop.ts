import type { PendingCreate } from '../../../infra/stack.js';
import type { Deadlines } from '../../reconcile/decide.js';
import { CloudError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DoClient } from './api/client.js';
import { DoActionError } from './api/errors.js';
import { powerDownDroplet, waitUntilListed } from './droplet-actions.js';
import type { Droplet, Snapshot } from './api/types.js';
import type { StackUpdate } from '../driver.js';
import type { DropletWatch } from './droplet-watch.js';
import type { OwnSnapshotRepo } from '../../store/own-snapshots.js';
import { fromApi, nextSnapshotSeconds, ownSnapshots, snapshotName, snapshotsToPrune, type OwnSnapshot, type SnapshotScope } from './snapshot-names.js';
import type { SnapshotRecord, SnapshotRecordFile } from './snapshot-record.js';
import { adoptUpgraded } from './snapshot-upgrade.js';

/** A snapshot to adopt that is not listed, or whose name is not unique. */
export class SnapshotAdoptError extends Error {}

/** What the driver needs of its Pulumi stack (`infra/stack.ts` `ServerStack`). */
export interface ServerStackLike {
  setConfig(values: Record<string, { value: string; secret?: boolean }>): Promise<void>;
  up(message: string): Promise<{ outputs: Record<string, unknown> }>;
  destroy(message: string): Promise<void>;
  /** Reads the state back from DigitalOcean (`pulumi refresh`): a resource deleted outside OoD leaves it. */
  refresh(message: string): Promise<void>;
  outputs(): Promise<Record<string, unknown>>;
  history(): Promise<StackUpdate[]>;
  /** The droplet the stack's state records (resources, not outputs), or null. */
  dropletId(): Promise<number | null>;
  /** Creates a killed update left pending (infra/stack.ts). */
  pendingCreates(): Promise<PendingCreate[]>;
  /** Adopts the pending creates found (urn → id) and drops those found nowhere (urn → null). */
  settlePendingCreates(found: Record<string, string | null>, message: string): Promise<void>;
}

export interface DropletStopDeps {
  api: DoClient;
  watch: DropletWatch;
  record: SnapshotRecordFile;
  /** Whose snapshots these are (names `<base>-<installation>-<server>-<unix seconds>`). */
  scope: () => Promise<SnapshotScope>;
  /** The store's record of the server's own snapshots: what each stop made, what an admin adopted. */
  owned: OwnSnapshotRepo;
  keep: number;
  /** The start image chosen for the next start, or a restore's hold (start-image.ts `pruneGuard`): it and every newer snapshot are kept from pruning. */
  chosen?: () => { snapshotId: string } | null;
  /** While a copy is chosen (world-push.ts `copyPruneSince`): every snapshot made at or after this time (ms) is kept from pruning. */
  keepSince?: () => number | null;
  /** Releases a restore's hold once the prune of a stop that destroyed a droplet has run (start-image.ts). */
  releaseHold?: () => Promise<void>;
  deadlines: Deadlines;
  stack: () => Promise<ServerStackLike>;
  clock: () => number;
  log: Logger;
  /** How often actions and the snapshot list are polled (default 2 s). */
  pollMs?: number;
}

/**
 * The second half of a droplet's life: power down, snapshot, destroy, prune. Each step is idempotent
 * and finds after a crash what the first attempt did (the snapshot record says which action was asked
 * for), and none removes anything it cannot prove was saved (invariant 1).
 */
export class DropletStop {
  constructor(private readonly deps: DropletStopDeps) {}

  async powerDown(): Promise<string> {
    const { api, watch, deadlines } = this.deps;
    const droplet = await watch.current(true);
    if (!droplet) return 'No droplet to power down';
    if (droplet.status === 'off') return `Droplet ${droplet.id} is already off`;
    try {
      return await powerDownDroplet(api, droplet.id, deadlines.poweringOff, this.pollMs);
    } finally {
      watch.stale();
    }
  }

  async snapshot(): Promise<string> {
    const { api, watch, record, deadlines } = this.deps;
    const droplet = await watch.current(true);
    if (!droplet) throw new CloudError('The droplet disappeared before its snapshot; nothing was destroyed by OoD, look in the DigitalOcean console', false);
    if (droplet.status !== 'off') throw new CloudError(`Droplet ${droplet.id} is ${droplet.status}; snapshots are taken powered off`, true);
    const known = await record.read();
    if (known.saved?.dropletId === droplet.id && (await this.listed(known.saved.snapshotId))) {
      return `Snapshot ${known.saved.name} of droplet ${droplet.id} was already confirmed`;
    }
    const pending = await this.pendingFor(droplet, known);
    try {
      await api.waitForAction(pending.actionId, { timeoutMs: deadlines.snapshotting, pollMs: this.pollMs });
    } catch (err) {
      if (!(err instanceof DoActionError)) throw err;
      await record.write({});
      throw new CloudError(`Snapshot ${pending.name} of droplet ${droplet.id} failed: ${err.message}. The droplet is kept, powered off, with the world on it; press Stop to try the snapshot again`, false, { cause: err });
    }
    const snapshot = await this.waitListed(pending.name, droplet.id);
    const { server } = await this.deps.scope();
    // Recorded before anything may be destroyed: from now on this is the server's newest world, by proof.
    this.deps.owned.record({ server, snapshotId: snapshot.id, name: snapshot.name, createdAt: Date.parse(snapshot.created_at), source: 'stop' }, this.deps.clock());
    await record.write({ saved: { dropletId: droplet.id, snapshotId: snapshot.id, name: snapshot.name, sizeGigabytes: snapshot.size_gigabytes } });
    return `Snapshot ${snapshot.name} (id ${snapshot.id}, ${snapshot.size_gigabytes} GB) of droplet ${droplet.id} completed and is listed`;
  }

  async destroy(message: string): Promise<string> {
    const { api, watch, record } = this.deps;
    const stack = await this.deps.stack();
    // A listing that leaves the droplet out proves nothing (invariant 9): the one the stack records, which
    // its destroy would delete, is looked up by id and must be proven saved like a listed one.
    const droplet = (await watch.current(true)) ?? (await this.recordedDroplet(stack));
    const saved = (await record.read()).saved;
    if (droplet) await this.provenSaved(droplet, saved);
    await stack.destroy(message);
    watch.stale();
    const notes = [droplet ? `Destroyed droplet ${droplet.id} (snapshot ${saved!.name} keeps its world)` : 'No droplet was left'];
    // A droplet the stack never recorded (an update cut short by a crash) is deleted by id, under the same proof.
    const left = await watch.current(true);
    if (left) {
      await this.provenSaved(left, saved);
      await api.deleteDroplet(left.id);
      watch.stale();
      notes.push(`deleted droplet ${left.id}, which the stack did not own`);
    }
    // A 204 is no proof: archived (and billed no more) only once DigitalOcean answers 404 for the droplet.
    for (const id of new Set([droplet?.id, left?.id].filter((i): i is number => i !== undefined))) await this.confirmGone(id);
    notes.push(await this.prune(saved?.snapshotId));
    // A droplet made after a restore is saved and this prune still kept the chosen snapshot and the
    // newer ones: the hold is spent now, so the next stop prunes as usual (README, "World versions").
    if (droplet || left) await this.deps.releaseHold?.();
    return notes.join('; ');
  }

  /** The droplet the stack records, as DigitalOcean answers for its id now; null when it records none or the id is gone. */
  private async recordedDroplet(stack: ServerStackLike): Promise<Droplet | null> {
    const id = await stack.dropletId();
    if (id === null) return null;
    const found = await this.deps.api.getDroplet(id);
    return found && found.status !== 'archive' ? found : null;
  }

  /** Waits (briefly) until GET /v2/droplets/:id answers 404; a droplet still there fails the step, which is retried until the destroying deadline. */
  private async confirmGone(id: number): Promise<void> {
    const until = performance.now() + Math.min(30_000, 15 * this.pollMs);
    for (;;) {
      const still = await this.deps.api.getDroplet(id);
      if (!still || still.status === 'archive') return;
      if (performance.now() + this.pollMs > until) {
        this.deps.watch.stale();
        throw new CloudError(`DigitalOcean accepted the deletion of droplet ${id}, but it still exists (${still.status}) and is billed; deleting it again`, true);
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /**
   * Deletes all but the newest `keep` of this server's snapshots. Never the one just confirmed, the last
   * stop's, one a droplet runs from, nor one OoD did not make (adopted ones stay until an admin deletes them).
   * While a start image is chosen (a restore), that snapshot and every newer one are kept too, and still
   * at the stop of the droplet made from it (the restore's hold, which destroy releases after this prune).
   */
  async prune(confirmedId: string | undefined): Promise<string> {
    const { api, watch, keep, owned } = this.deps;
    const scope = await this.deps.scope();
    const own = await this.ownSnapshots();
    const running = await watch.current();
    const records = owned.list(scope.server);
    const keepIds = new Set(
      [confirmedId, owned.lastStop(scope.server)?.snapshotId, running ? String(running.image.id) : undefined, ...records.filter((r) => r.source === 'adopted').map((r) => r.snapshotId)].filter(
        (id): id is string => id !== undefined,
      ),
    );
    const chosen = own.find((s) => s.id === this.deps.chosen?.()?.snapshotId);
    if (chosen) for (const s of own) if (s.createdAt >= chosen.createdAt) keepIds.add(s.id);
    const since = this.deps.keepSince?.() ?? null;
    if (since !== null) for (const s of own) if (s.createdAt >= since) keepIds.add(s.id);
    const doomed = snapshotsToPrune(own, keep, keepIds);
    for (const snapshot of doomed) await api.deleteSnapshot(snapshot.id);
    return doomed.length ? `pruned ${doomed.map((s) => s.name).join(', ')}` : `nothing to prune (${own.length} snapshot${own.length === 1 ? '' : 's'})`;
  }

  /** The server's own snapshots as listed now, newest first (snapshot-names.ts). */
  async ownSnapshots(): Promise<OwnSnapshot[]> {
    const scope = await this.deps.scope();
    const listed = (await this.deps.api.listSnapshots()).map(fromApi);
    adoptUpgraded({ owned: this.deps.owned, server: scope.server, listed, record: await this.deps.record.read(), now: this.deps.clock(), log: this.deps.log });
    const recorded = new Set(this.deps.owned.list(scope.server).map((r) => r.snapshotId));
    return ownSnapshots(listed, scope, recorded);
  }

  /**
   * `ood snapshots adopt`: claims a listed snapshot (by id, or by a name only one snapshot has) as the
   * server's own, say one an admin made by hand or a base image built before snapshot names held the
   * installation id. It is booted from like the server's others but never pruned.
   */
  async adopt(ref: string): Promise<{ id: string; name: string }> {
    const listed = (await this.deps.api.listSnapshots()).map(fromApi);
    const byId = listed.find((s) => s.id === ref);
    const byName = listed.filter((s) => s.name === ref);
    if (!byId && byName.length > 1) throw new SnapshotAdoptError(`${byName.length} snapshots are named ${ref} (ids ${byName.map((s) => s.id).join(', ')}): adopt one by its id`);
    const snapshot = byId ?? byName[0];
    if (!snapshot) throw new SnapshotAdoptError(`No snapshot with id or name ${ref} is listed in this DigitalOcean account (\`doctl compute snapshot list\` shows them)`);
    const { server } = await this.deps.scope();
    this.deps.owned.record({ server, snapshotId: snapshot.id, name: snapshot.name, createdAt: snapshot.createdAt, source: 'adopted' }, this.deps.clock());
    return { id: snapshot.id, name: snapshot.name };
  }

  private get pollMs(): number {
    return this.deps.pollMs ?? 2_000;
  }

  /** Invariant 1: the droplet is off and its snapshot is recorded complete and still listed. */
  private async provenSaved(droplet: Droplet, saved: SnapshotRecord['saved']): Promise<void> {
    if (droplet.status !== 'off') throw new CloudError(`Droplet ${droplet.id} is ${droplet.status}; a snapshot taken before no longer speaks for it. Not destroying it`, false);
    if (saved?.dropletId !== droplet.id) throw new CloudError(`No confirmed snapshot of droplet ${droplet.id}; not destroying it`, false);
    if (!(await this.listed(saved.snapshotId))) throw new CloudError(`Snapshot ${saved.name} of droplet ${droplet.id} is no longer listed; not destroying the droplet`, false);
  }

  /** The snapshot action for this droplet: the one asked for before a crash, or a new one. */
  private async pendingFor(droplet: Droplet, known: SnapshotRecord): Promise<{ name: string; actionId: number }> {
    const { api, record, clock } = this.deps;
    const pending = known.pending?.dropletId === droplet.id ? known.pending : undefined;
    if (pending?.actionId !== undefined) return { name: pending.name, actionId: pending.actionId };
    if (pending) {
      // Cut off between asking and writing down the answer: find the action DigitalOcean started, if any.
      const asked = (await api.listDropletActions(droplet.id)).find((a) => a.type === 'snapshot' && a.started_at !== null && Date.parse(a.started_at) >= pending.askedAt - 60_000);
      if (asked) {
        await record.write({ pending: { ...pending, actionId: asked.id } });
        return { name: pending.name, actionId: asked.id };
      }
    }
    // Never older than a listed one: a clock that once ran ahead must not make the next world look older.
    const scope = await this.deps.scope();
    const name = snapshotName(scope, nextSnapshotSeconds(clock(), await this.ownSnapshots(), scope));
    // Written before asking, so a crash right after the request still knows a snapshot may be on its way.
    await record.write({ pending: { dropletId: droplet.id, name, askedAt: clock() } });
    const action = await api.dropletAction(droplet.id, { type: 'snapshot', name });
    await record.write({ pending: { dropletId: droplet.id, name, askedAt: clock(), actionId: action.id } });
    return { name, actionId: action.id };
  }

  private async listed(snapshotId: string): Promise<Snapshot | undefined> {
    return (await this.deps.api.listSnapshots()).find((s) => s.id === snapshotId);
  }

  private waitListed(name: string, dropletId: number): Promise<Snapshot> {
    return waitUntilListed(this.deps.api, name, dropletId, Math.min(this.deps.deadlines.snapshotting, 5 * 60_000), this.pollMs);
  }
}
