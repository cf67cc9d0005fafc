import { installationTag } from '../../../infra/program.js';
import type { DoClient } from './api/client.js';
import type { Action, Droplet, Snapshot } from './api/types.js';

/**
 * Actions after which a droplet may hold changes no earlier snapshot has: each boots the OS (and with
 * it supervisord and the game, which writes the world) or replaces the disk. `create` counts for a
 * droplet never powered on since. A power-off, a snapshot or a rename changes nothing on the disk.
 */
const RUNS_AGAIN = new Set(['create', 'power_on', 'power_cycle', 'reboot', 'restore', 'rebuild']);
/** Actions that leave a droplet off: only a snapshot taken after one of them (and after the last run) holds all its disk. */
const POWERS_DOWN = new Set(['shutdown', 'power_off']);

export type RemovalProof = { saved: true; snapshot: Snapshot; lastRun: Action } | { saved: false; reason: string };

/**
 * Whether a stray droplet may be deleted (`orphans.remove`): only one of this installation's (its tag),
 * off, with a listed snapshot of it created after the droplet last ran and was then powered down (a
 * `shutdown` or `power_off` action), by DigitalOcean's action history. A snapshot from before a power-on no longer holds the world played on since (issue 17).
 * Times are DigitalOcean's, compared strictly: a snapshot in the same second as the power-on is no proof.
 */
export async function removalProof(api: DoClient, droplet: Droplet, snapshots: readonly Snapshot[], installation: string): Promise<RemovalProof> {
  const tag = installationTag(installation);
  if (!droplet.tags.includes(tag)) return { saved: false, reason: `it does not carry this installation's tag ${tag}` };
  if (droplet.status !== 'off') return { saved: false, reason: `it is ${droplet.status}, not off` };
  const mine = snapshots.filter((s) => s.resource_id === String(droplet.id));
  if (mine.length === 0) return { saved: false, reason: 'no listed snapshot of it exists' };
  const actions = await api.listDropletActions(droplet.id);
  const runs = actions.filter((a) => RUNS_AGAIN.has(a.type));
  const running = runs.find((a) => a.status === 'in-progress' || a.completed_at === null);
  if (running) return { saved: false, reason: `its ${running.type} action ${running.id} has not finished` };
  const lastRun = newest(runs);
  if (!lastRun) return { saved: false, reason: 'its action history shows no create or power-on, so when it last ran is unknown' };
  const ranAt = Date.parse(lastRun.completed_at!);
  const after = mine.filter((s) => Date.parse(s.created_at) > ranAt).sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  if (!after[0]) return { saved: false, reason: `no snapshot taken after its last power-on (${lastRun.type} at ${lastRun.completed_at})` };
  // DigitalOcean snapshots a running droplet too: a snapshot taken before it was powered down misses what ran after it.
  const lastOff = newest(actions.filter((a) => POWERS_DOWN.has(a.type) && a.status === 'completed' && a.completed_at !== null && Date.parse(a.completed_at) >= ranAt));
  const offAt = lastOff ? Date.parse(lastOff.completed_at!) : undefined;
  const saved = offAt === undefined ? undefined : after.find((s) => Date.parse(s.created_at) > offAt);
  if (!saved) {
    return { saved: false, reason: `no snapshot taken after it was last powered down (${lastOff ? `${lastOff.type} at ${lastOff.completed_at}` : 'no shutdown or power_off since its last power-on'})` };
  }
  return { saved: true, snapshot: saved, lastRun };
}

/** The action that completed last (DigitalOcean's times), or undefined. */
function newest(actions: readonly Action[]): Action | undefined {
  return actions.reduce<Action | undefined>((a, b) => (a && Date.parse(a.completed_at!) >= Date.parse(b.completed_at!) ? a : b), undefined);
}
