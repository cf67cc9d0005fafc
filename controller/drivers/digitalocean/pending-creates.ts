import { createHash } from 'node:crypto';
import { INSTALLATION_TAG_PREFIX } from '../../../infra/program.js';
import type { PendingCreate } from '../../../infra/stack.js';
import { CloudError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DoClient } from './api/client.js';
import type { Droplet } from './api/types.js';

/**
 * Where each create a killed update left pending ended up in DigitalOcean: the id of the resource it
 * made, or null when it made none. The state cannot tell (the engine never heard back), so each is
 * looked up by what OoD's program gives it that DigitalOcean keeps: a droplet by its name and all its
 * tags, the installation's included (each confirmed by id), a key by its fingerprint, a firewall by its
 * name and the droplets it was given. Two droplets for one is no
 * guess OoD makes: a person must look. While `listingMayLag`, a droplet not listed is an error to retry
 * (retryable CloudError), not a create that made nothing.
 */
export async function findPendingCreates(pending: readonly PendingCreate[], api: DoClient, server: string, log: Logger, listingMayLag = false): Promise<Record<string, string | null>> {
  const found: Record<string, string | null> = {};
  for (const p of pending) found[p.urn] = await findOne(p, api, server, log, listingMayLag);
  return found;
}

async function findOne(p: PendingCreate, api: DoClient, server: string, log: Logger, listingMayLag: boolean): Promise<string | null> {
  const name = typeof p.inputs.name === 'string' ? p.inputs.name : undefined;
  switch (p.type) {
    case 'digitalocean:index/droplet:Droplet': {
      // Another installation with the same server id has droplets of this very name and tag: only one
      // carrying every tag the create asked for (its installation's among them) can be the one it made.
      const tags = Array.isArray(p.inputs.tags) ? p.inputs.tags.filter((t): t is string => typeof t === 'string') : [];
      // A create asked by an OoD before the installation tag asked for none: a droplet carrying an
      // installation tag the create did not ask for is still another installation's, never this one's.
      const asked = (d: Droplet) => tags.every((t) => d.tags.includes(t)) && d.tags.every((t) => !t.startsWith(INSTALLATION_TAG_PREFIX) || tags.includes(t));
      const listed = (await api.listDroplets(`ood-${server}`)).filter((d) => d.name === name && asked(d));
      const confirmed = (await Promise.all(listed.map((d) => api.getDroplet(d.id)))).filter((d) => d !== null);
      if (confirmed.length > 1) {
        throw new CloudError(`A killed update left a droplet create pending, and ${confirmed.length} droplets named ${name} exist (${confirmed.map((d) => d.id).join(', ')}): OoD will not guess which is the server's; delete the extra one by hand, then press Start`, false);
      }
      // The droplet's id died with the engine, so only a listing can find it, and a listing lags behind a
      // create: while it may, "not listed" is no proof the create made nothing, and dropping it would
      // have the next update make a second droplet beside it.
      if (!confirmed[0] && listingMayLag) {
        throw new CloudError(`A killed update left the create of droplet ${name} pending and no droplet tagged ood-${server} by that name is listed yet; a listing can lag behind a create, so OoD looks again before it makes another`, true);
      }
      return confirmed[0] ? String(confirmed[0].id) : null;
    }
    case 'digitalocean:index/sshKey:SshKey': {
      const fingerprint = typeof p.inputs.publicKey === 'string' ? md5Fingerprint(p.inputs.publicKey) : undefined;
      const key = fingerprint ? await api.getSshKey(fingerprint) : null;
      return key ? String(key.id) : null;
    }
    case 'digitalocean:index/firewall:Firewall': {
      // Names are shared with any other installation's server of the same id; the droplets the create
      // was given are this stack's own, so a firewall is this create's only if it lists them all.
      const ids = Array.isArray(p.inputs.dropletIds) ? p.inputs.dropletIds.map(Number).filter((n) => Number.isInteger(n) && n > 0) : [];
      if (ids.length === 0) return null;
      const same = (await api.listFirewalls()).filter((f) => f.name === name && ids.every((id) => f.droplet_ids?.includes(id)));
      return same.length === 1 ? same[0]!.id : null;
    }
    default:
      log.warn({ urn: p.urn }, 'A killed update left this create pending; OoD cannot look it up, so it is dropped and made again (check for a duplicate by hand)');
      return null;
  }
}

/** DigitalOcean's SSH key fingerprint: MD5 of the key's blob, as colon-separated hex. */
export function md5Fingerprint(publicKey: string): string | undefined {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) return undefined;
  return createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex').match(/../g)!.join(':');
}
