import { createHash } from 'node:crypto';
import { DoRequestError, type DoApi } from './do-api.js';
import { finding, ResourceInitError, type DoResource, type Diff } from './resource.js';
import { compact, sameSet, type PropertyMap, type PropertyValue } from './values.js';
import { waitForDroplet, waitForDropletGone } from './wait.js';

/**
 * `digitalocean:index/droplet:Droplet` as the real provider (the Terraform provider v2.75 behind
 * pulumi-digitalocean) handles it: its schema's ForceNew rules, godo's request body, the waits of
 * resource_droplet.go, and the state it keeps (user data as a SHA-1, the image as given).
 */
type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
export const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const lower = (v: PropertyValue | undefined): string | undefined => (typeof v === 'string' ? v.toLowerCase() : undefined);
const strings = (v: PropertyValue | undefined): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);

/** The schema's defaults (`Default:` in resource_droplet.go), as the bridge's Check fills them in. */
const DEFAULTS: PropertyMap = { backups: false, gracefulShutdown: false, ipv6: false, monitoring: false, resizeDisk: true };

/** godo's DropletCreateRequest: the four flags and `tags` always sent, `ssh_keys` null when none. */
export function createBody(inputs: PropertyMap): Json {
  const image = String(inputs.image);
  const keys = strings(inputs.sshKeys);
  return {
    name: inputs.name,
    region: inputs.region ?? '',
    size: inputs.size,
    image: /^\d+$/.test(image) ? Number(image) : image,
    ssh_keys: keys.length > 0 ? keys.map((k) => (/^\d+$/.test(k) ? Number(k) : k)) : null,
    backups: inputs.backups === true,
    ipv6: inputs.ipv6 === true,
    private_networking: inputs.privateNetworking === true,
    monitoring: inputs.monitoring === true,
    ...(inputs.userData ? { user_data: inputs.userData } : {}),
    tags: strings(inputs.tags),
    ...(inputs.vpcUuid ? { vpc_uuid: inputs.vpcUuid } : {}),
    ...(typeof inputs.dropletAgent === 'boolean' ? { with_droplet_agent: inputs.dropletAgent } : {}),
  };
}

/** `setDropletAttributes` over what the state keeps from the inputs (the image is left to drift on purpose). */
export function dropletOutputs(d: Json, kept: PropertyMap): PropertyMap {
  const networks = (d.networks ?? {}) as { v4?: Json[]; v6?: Json[] };
  const v4 = (type: string): string => str(networks.v4?.find((n) => n.type === type)?.ip_address) ?? '';
  const size = (d.size ?? {}) as Json;
  const features = Array.isArray(d.features) ? (d.features as string[]) : undefined;
  const has = (f: string, fallback: PropertyValue | undefined): PropertyValue => (features ? features.includes(f) : (fallback ?? false));
  const userData = kept.userData;
  return compact({
    ...compact({ image: kept.image, sshKeys: kept.sshKeys, gracefulShutdown: kept.gracefulShutdown, resizeDisk: kept.resizeDisk, dropletAgent: kept.dropletAgent }),
    // The Terraform provider keeps only a SHA-1 of user data in state (StateFunc HashStringStateFunc).
    userData: typeof userData === 'string' && userData !== '' && !/^[0-9a-f]{40}$/.test(userData) ? sha1(userData) : userData,
    id: String(d.id),
    dropletUrn: `do:droplet:${String(d.id)}`,
    name: str(d.name) ?? '',
    region: str(((d.region ?? {}) as Json).slug) ?? '',
    size: str(size.slug) ?? str(d.size_slug) ?? '',
    priceHourly: (size.price_hourly as number | undefined) ?? 0,
    priceMonthly: (size.price_monthly as number | undefined) ?? 0,
    disk: (d.disk as number | undefined) ?? 0,
    vcpus: (d.vcpus as number | undefined) ?? 0,
    memory: (d.memory as number | undefined) ?? 0,
    status: str(d.status) ?? '',
    locked: d.locked === true,
    createdAt: str(d.created_at) ?? '',
    vpcUuid: str(d.vpc_uuid) ?? '',
    ipv4Address: v4('public'),
    ipv4AddressPrivate: v4('private'),
    ipv6Address: (str(networks.v6?.find((n) => n.type === 'public')?.ip_address) ?? '').toLowerCase(),
    backups: has('backups', kept.backups),
    ipv6: has('ipv6', kept.ipv6),
    privateNetworking: has('private_networking', kept.privateNetworking),
    monitoring: has('monitoring', kept.monitoring),
    volumeIds: Array.isArray(d.volume_ids) ? (d.volume_ids as string[]).map(String) : [],
    tags: Array.isArray(d.tags) ? (d.tags as string[]) : [],
  });
}

async function getDroplet(api: DoApi, id: string): Promise<Json> {
  return (await api.request<{ droplet: Json }>('GET', `/v2/droplets/${id}`)).droplet;
}

/** The action endpoint; every one but `shutdown` is something OoD's program should never cause. */
async function action(api: DoApi, id: string, body: Json): Promise<Json> {
  return (await api.request<{ action: Json }>('POST', `/v2/droplets/${id}/actions`, body)).action;
}

async function waitForAction(api: DoApi, a: Json): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { action: now } = await api.request<{ action: Json }>('GET', `/v2/actions/${String(a.id)}`);
    if (now.status === 'completed') return;
    if (now.status === 'errored') throw new Error(`action ${String(a.id)} (${String(a.type)}) errored`);
    await new Promise((r) => setTimeout(r, api.scaled(5000)));
  }
  throw new Error(`action ${String(a.id)} did not complete`);
}

export const droplet: DoResource = {
  check: (news) => ({ ...DEFAULTS, ...news }),

  diff(olds, news): Diff {
    const changes: string[] = [];
    const replaces: string[] = [];
    const differs = (key: string, same: boolean, forceNew: boolean): void => {
      if (same) return;
      changes.push(key);
      if (forceNew) replaces.push(key);
    };
    differs('image', String(news.image) === String(olds.image), true);
    // Optional+Computed: unset means "whatever DigitalOcean chose".
    if (news.region !== undefined) differs('region', lower(news.region) === lower(olds.region), true);
    if (news.vpcUuid !== undefined) differs('vpcUuid', news.vpcUuid === olds.vpcUuid, true);
    differs('sshKeys', sameSet(news.sshKeys ?? [], olds.sshKeys ?? []), true);
    const newHash = typeof news.userData === 'string' && news.userData !== '' ? sha1(news.userData) : undefined;
    differs('userData', newHash === (olds.userData || undefined) || news.userData === olds.userData, true);
    differs('monitoring', Boolean(news.monitoring) === Boolean(olds.monitoring), true);
    if (news.dropletAgent !== undefined) differs('dropletAgent', news.dropletAgent === olds.dropletAgent, true);
    // CustomizeDiff: turning IPv6 off forces a new droplet; turning it on is an `enable_ipv6` action.
    differs('ipv6', Boolean(news.ipv6) === Boolean(olds.ipv6), olds.ipv6 === true && news.ipv6 !== true);
    differs('name', news.name === olds.name, false);
    differs('size', lower(news.size) === lower(olds.size), false);
    differs('backups', Boolean(news.backups) === Boolean(olds.backups), false);
    if (news.privateNetworking !== undefined) differs('privateNetworking', news.privateNetworking === olds.privateNetworking, false);
    differs('tags', sameSet(news.tags ?? [], olds.tags ?? [], (v) => String(v).toLowerCase()), false);
    if (news.volumeIds !== undefined) differs('volumeIds', sameSet(news.volumeIds, olds.volumeIds), false);
    differs('gracefulShutdown', Boolean(news.gracefulShutdown) === Boolean(olds.gracefulShutdown), false);
    differs('resizeDisk', (news.resizeDisk ?? true) === (olds.resizeDisk ?? true), false);
    return { changes, replaces };
  },

  async create(api, inputs) {
    const { droplet: created } = await api.request<{ droplet: Json }>('POST', '/v2/droplets', createBody(inputs));
    const id = String(created.id);
    try {
      const ready = await waitForDroplet(api, id, (d) => String(d.status), 'active', ['new'], 60 * 60_000);
      return { id, outputs: dropletOutputs(ready, inputs) };
    } catch (err) {
      // The droplet exists: the engine must record it (ErrorResourceInitFailed), as the bridge does.
      throw new ResourceInitError(`Error waiting for droplet (${id}) to become ready: ${(err as Error).message}`, id, dropletOutputs(created, inputs));
    }
  },

  async read(api, id, olds) {
    try {
      return dropletOutputs(await getDroplet(api, id), olds);
    } catch (err) {
      if (err instanceof DoRequestError && err.status === 404) return null;
      throw new Error(`Error retrieving droplet: ${(err as Error).message}`, { cause: err });
    }
  },

  async update(api, id, olds, news) {
    const { changes } = droplet.diff(olds, news);
    const what = `droplet ${id} (${String(olds.name)})`;
    if (changes.includes('size')) {
      await finding(`resized ${what} from ${String(olds.size)} to ${String(news.size)}: power_off, resize, power_on`);
      await action(api, id, { type: 'power_off' });
      await waitForDroplet(api, id, (d) => String(d.status), 'off', ['active'], 60 * 60_000);
      await waitForAction(api, await action(api, id, { type: 'resize', size: news.size, disk: news.resizeDisk !== false }));
      await action(api, id, { type: 'power_on' });
      await waitForDroplet(api, id, (d) => String(d.status), 'active', ['off'], 60 * 60_000);
    }
    if (changes.includes('name')) {
      await finding(`renamed ${what} to ${String(news.name)}`);
      await action(api, id, { type: 'rename', name: news.name });
      await waitForDroplet(api, id, (d) => String(d.name), String(news.name), ['', String(olds.name)], 60 * 60_000);
    }
    if (changes.includes('backups')) {
      await finding(`${news.backups ? 'enabled' : 'disabled'} backups of ${what}`);
      await waitForAction(api, await action(api, id, { type: news.backups ? 'enable_backups' : 'disable_backups' }));
    }
    if (changes.includes('ipv6') && news.ipv6 === true) {
      await finding(`enabled IPv6 on ${what}`);
      await action(api, id, { type: 'enable_ipv6' });
      await waitForDroplet(api, id, (d) => String((d.features as string[] | undefined)?.includes('ipv6') ?? false), 'true', ['', 'false'], 60 * 60_000);
    }
    if (changes.includes('tags')) {
      await finding(`changed the tags of ${what} from ${JSON.stringify(olds.tags)} to ${JSON.stringify(news.tags)}`);
      await setTags(api, id, strings(olds.tags), strings(news.tags));
    }
    const kept = { ...olds, ...compact({ gracefulShutdown: news.gracefulShutdown, resizeDisk: news.resizeDisk }) };
    const read = await droplet.read(api, id, kept);
    if (!read) throw new Error(`Error retrieving droplet: droplet ${id} is gone`);
    return read;
  },

  async delete(api, id, olds) {
    const locked = (d: Json): string => String(d.locked === true);
    // The unlock wait sees a locked droplet as "not found" and skips it: it only ends once unlocked.
    await waitForDroplet(api, id, locked, 'false', ['', 'true'], 60_000).catch((err: unknown) => {
      throw new Error(`Error waiting for droplet to be unlocked for destroy (${id}): ${(err as Error).message}`, { cause: err });
    });
    if (olds.gracefulShutdown === true) {
      await action(api, id, { type: 'shutdown' }).catch((err: unknown) => {
        throw new Error(`Error shutting down the the droplet (${id}): ${(err as Error).message}`, { cause: err });
      });
      await waitForDroplet(api, id, (d) => String(d.status), 'off', ['active'], 60_000).catch((err: unknown) => {
        throw new Error(`Error waiting for droplet (${id}) to become off: ${(err as Error).message}`, { cause: err });
      });
    }
    try {
      await api.request('DELETE', `/v2/droplets/${id}`);
    } catch (err) {
      if (err instanceof DoRequestError && err.status === 404) return;
      throw new Error(`Error deleting droplet: ${(err as Error).message}`, { cause: err });
    }
    await waitForDropletGone(api, id);
  },
};

/** tag.SetTags: untag what went, create and tag what came. */
async function setTags(api: DoApi, id: string, before: string[], after: string[]): Promise<void> {
  const resources = [{ resource_id: id, resource_type: 'droplet' }];
  for (const t of before.filter((t) => !after.includes(t))) await api.request('DELETE', `/v2/tags/${encodeURIComponent(t)}/resources`, { resources });
  for (const t of after.filter((t) => !before.includes(t))) {
    await api.request('POST', '/v2/tags', { name: t });
    await api.request('POST', `/v2/tags/${encodeURIComponent(t)}/resources`, { resources });
  }
}
