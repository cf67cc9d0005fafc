import { formatDuration } from '../../config/duration.js';
import { CloudError } from '../../errors.js';
import type { DoClient } from './api/client.js';
import { DoActionError, DoApiError, DoTimeoutError } from './api/errors.js';
import type { Action, Snapshot } from './api/types.js';

/**
 * Powers a droplet off as DigitalOcean advises: `shutdown`, then `power_off` when the shutdown does
 * not finish within `timeoutMs`, or completes with the droplet still active (it is best effort,
 * api-v2#79). Only called once the game has saved and stopped, so no world is lost. Returns what happened.
 */
export async function powerDownDroplet(api: DoClient, id: number, timeoutMs: number, pollMs: number): Promise<string> {
  let why: string;
  try {
    const shutdown = await askOrJoin(api, id, 'shutdown');
    await api.waitForAction(shutdown.id, { timeoutMs, pollMs });
    const after = await api.getDroplet(id);
    if (!after || after.status === 'off') return `Shut droplet ${id} down`;
    why = `its shutdown completed but it is still ${after.status}`;
  } catch (err) {
    if (!(err instanceof DoTimeoutError || err instanceof DoActionError)) throw err;
    why = `it did not shut down within ${formatDuration(timeoutMs)}: ${err.message}`;
  }
  const off = await askOrJoin(api, id, 'power_off');
  await api.waitForAction(off.id, { timeoutMs, pollMs });
  return `Droplet ${id}: ${why}; powered it off`;
}

/**
 * Asks for a power action, or, when DigitalOcean answers 422 "pending event" (the droplet already runs
 * an action: the one an earlier attempt asked for before a kill -9 or a lost answer), returns that
 * in-progress action to wait on instead: asking again can never succeed while it runs.
 */
async function askOrJoin(api: DoClient, id: number, type: 'shutdown' | 'power_off'): Promise<Action> {
  try {
    return await api.dropletAction(id, { type });
  } catch (err) {
    if (!(err instanceof DoApiError && err.status === 422 && /pending event/i.test(err.doMessage ?? ''))) throw err;
    const pending = (await api.listDropletActions(id)).find((a) => a.status === 'in-progress');
    // Finished in between: asking again is the next attempt's to do.
    if (!pending) throw new CloudError(`Droplet ${id} had a pending action when asked to ${type}, and it has finished since; asking again`, true, { cause: err });
    return pending;
  }
}

/** A completed snapshot action is not enough: the snapshot must show in the list (it can lag). */
export async function waitUntilListed(api: DoClient, name: string, dropletId: number, timeoutMs: number, pollMs: number): Promise<Snapshot> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const found = (await api.listSnapshots()).find((s) => s.name === name && s.resource_id === String(dropletId));
    if (found) return found;
    if (performance.now() + pollMs > until) throw new CloudError(`Snapshot ${name} of droplet ${dropletId} completed but is not listed yet; checking again`, true);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
