import { DoRequestError, sleep, type DoApi } from './do-api.js';

type Json = Record<string, unknown>;

/**
 * The Terraform provider's `waitForDropletAttribute` on `retry.StateChangeConf`: wait `Delay` (10 s),
 * then `GET /v2/droplets/{id}` until the attribute reaches `target`, polling at 100 ms doubling to 10 s
 * but never under `MinTimeout` (3 s). A locked droplet does not count (skipped, up to 60 times, its
 * `NotFoundChecks`); a state neither pending nor target fails at once, as does a failed GET.
 * github.com/digitalocean/terraform-provider-digitalocean, digitalocean/droplet/resource_droplet.go
 */
export async function waitForDroplet(
  api: DoApi,
  id: string,
  attribute: (d: Json) => string,
  target: string,
  pending: string[],
  timeoutMs: number,
): Promise<Json> {
  const deadline = Date.now() + api.scaled(timeoutMs);
  await sleep(api.scaled(10_000));
  let wait = 100;
  let skipped = 0;
  let last = '';
  for (;;) {
    const { droplet } = await api.request<{ droplet: Json }>('GET', `/v2/droplets/${id}`).catch((err: unknown) => {
      throw new Error(`Error retrieving droplet: ${(err as Error).message}`, { cause: err });
    });
    if (droplet.locked === true) {
      if (++skipped > 60) throw new Error(`couldn't find resource (21 retries): droplet ${id} stayed locked`);
    } else {
      last = attribute(droplet);
      if (last === target) return droplet;
      if (!pending.includes(last)) throw new Error(`unexpected state '${last}', wanted target '${target}'. last error: %!s(<nil>)`);
    }
    const next = api.scaled(Math.max(wait, 3000));
    if (Date.now() + next > deadline) {
      throw new Error(`timeout while waiting for state to become '${target}' (last state: '${last}', timeout: ${formatDuration(timeoutMs)})`);
    }
    await sleep(next);
    wait = Math.min(wait * 2, 10_000);
  }
}

/** `waitForDropletDestroy`: GET until the droplet is gone; the 404 that ends it counts as success. */
export async function waitForDropletGone(api: DoApi, id: string): Promise<void> {
  try {
    await waitForDroplet(api, id, (d) => String(d.status), 'archive', ['active', 'off'], 60_000);
  } catch (err) {
    const cause = (err as Error).cause;
    if (cause instanceof DoRequestError && cause.status === 404) return;
    throw new Error(`Error deleting droplet: ${(err as Error).message}`, { cause: err });
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s % 60}s`;
}
