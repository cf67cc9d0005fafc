import { createHash } from 'node:crypto';
import { compact, deepEqual } from '../engine/properties.js';
import type { PropertyMap, PropertyValue } from '../types.js';
import type { DoApi } from '../../pulumi/provider/do-api.js';

/**
 * The DigitalOcean resources the stand-in can manage, with simplified replace/update rules and request
 * bodies. The faithful version (godo's bodies, the Terraform provider's waits, graceful shutdown,
 * resize) is the real engine's plugin in test/pulumi/provider/; these stay as they were so the tests
 * still on the stand-in see the requests they assert, until the stand-in is removed.
 * Handlers see plain values (secrets unwrapped by the engine).
 */
export interface Created {
  id: string;
  outputs: PropertyMap;
}
export interface ResourceHandler {
  /** Inputs whose change makes the provider replace the resource; any other change is an update. */
  replaceOnChanges(changed: string[]): boolean;
  create(api: DoApi, inputs: PropertyMap, timeoutMs: number): Promise<Created>;
  update(api: DoApi, id: string, inputs: PropertyMap, oldInputs: PropertyMap, oldOutputs: PropertyMap): Promise<PropertyMap>;
  remove(api: DoApi, id: string, outputs: PropertyMap): Promise<void>;
}

type Json = Record<string, unknown>;
const str = (v: PropertyValue | undefined): string | undefined => (v === undefined || v === null ? undefined : String(v));
const numericOr = (v: PropertyValue | undefined): PropertyValue | undefined =>
  typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;

export function changedKeys(oldInputs: PropertyMap, inputs: PropertyMap): string[] {
  const keys = new Set([...Object.keys(oldInputs), ...Object.keys(inputs)]);
  return [...keys].filter((k) => k !== '__defaults' && !deepEqual(oldInputs[k], inputs[k])).sort();
}

const droplet: ResourceHandler = {
  // The Terraform provider behind @pulumi/digitalocean forces a new droplet for these (ssh_keys,
  // user_data, image, region, ...); size is resizable there, but resizing needs a power cycle, so the
  // stand-in replaces instead (OoD never resizes a running droplet).
  replaceOnChanges: (changed) => changed.some((k) => !['name', 'gracefulShutdown', 'resizeDisk', 'dropletAgent'].includes(k)),
  async create(api, inputs, timeoutMs) {
    const body = compact({
      name: inputs.name,
      region: inputs.region,
      size: inputs.size,
      image: numericOr(inputs.image),
      ssh_keys: Array.isArray(inputs.sshKeys) ? inputs.sshKeys.map((k) => numericOr(k) as PropertyValue) : undefined,
      tags: inputs.tags,
      user_data: inputs.userData,
      monitoring: inputs.monitoring,
      ipv6: inputs.ipv6,
      vpc_uuid: inputs.vpcUuid,
      backups: inputs.backups,
      with_droplet_agent: inputs.dropletAgent,
    });
    const { droplet: created } = await api.request<{ droplet: Json }>('POST', '/v2/droplets', body);
    const id = String(created.id);
    // The real provider waits for `active` before it reports the droplet created.
    const deadline = Date.now() + timeoutMs;
    let current = created;
    while (current.status !== 'active') {
      if (Date.now() > deadline) throw new Error(`Error waiting for droplet (${id}) to become ready: timeout after ${timeoutMs / 1000}s (status ${String(current.status)})`);
      await new Promise((r) => setTimeout(r, api.pollMs));
      current = (await api.request<{ droplet: Json }>('GET', `/v2/droplets/${id}`)).droplet;
    }
    return { id, outputs: dropletOutputs(current, inputs) };
  },
  async update(api, id, inputs, oldInputs, oldOutputs) {
    if (!deepEqual(oldInputs.name, inputs.name)) {
      await api.request('POST', `/v2/droplets/${id}/actions`, { type: 'rename', name: inputs.name });
    }
    return { ...oldOutputs, ...compact({ name: inputs.name, gracefulShutdown: inputs.gracefulShutdown, resizeDisk: inputs.resizeDisk }) };
  },
  async remove(api, id) {
    await api.remove(`/v2/droplets/${id}`);
  },
};

function dropletOutputs(d: Json, inputs: PropertyMap): PropertyMap {
  const networks = (d.networks ?? {}) as { v4?: Json[]; v6?: Json[] };
  const v4 = (type: string): string | undefined => str(networks.v4?.find((n) => n.type === type)?.ip_address as PropertyValue);
  const size = (d.size ?? {}) as Json;
  const userData = str(inputs.userData);
  return compact({
    id: String(d.id),
    urn: `do:droplet:${String(d.id)}`,
    name: str(d.name as PropertyValue) ?? inputs.name,
    region: str(((d.region ?? {}) as Json).slug as PropertyValue) ?? inputs.region,
    size: str(d.size_slug as PropertyValue) ?? inputs.size,
    image: inputs.image,
    status: str(d.status as PropertyValue),
    ipv4Address: v4('public') ?? '',
    ipv4AddressPrivate: v4('private') ?? '',
    ipv6Address: str(networks.v6?.find((n) => n.type === 'public')?.ip_address as PropertyValue) ?? '',
    ipv6: inputs.ipv6 ?? false,
    memory: (d.memory as number | undefined) ?? 0,
    vcpus: (d.vcpus as number | undefined) ?? 0,
    disk: (d.disk as number | undefined) ?? 0,
    priceHourly: (size.price_hourly as number | undefined) ?? 0,
    priceMonthly: (size.price_monthly as number | undefined) ?? 0,
    locked: (d.locked as boolean | undefined) ?? false,
    createdAt: str(d.created_at as PropertyValue) ?? '',
    tags: (d.tags as PropertyValue | undefined) ?? inputs.tags ?? [],
    sshKeys: inputs.sshKeys,
    // The Terraform provider keeps only a SHA-1 of user data in state.
    userData: userData === undefined ? undefined : createHash('sha1').update(userData).digest('hex'),
    monitoring: inputs.monitoring ?? false,
    backups: inputs.backups ?? false,
    gracefulShutdown: inputs.gracefulShutdown ?? false,
    resizeDisk: inputs.resizeDisk ?? true,
    vpcUuid: str(d.vpc_uuid as PropertyValue) ?? inputs.vpcUuid ?? '',
  });
}

const sshKey: ResourceHandler = {
  replaceOnChanges: (changed) => changed.includes('publicKey'),
  async create(api, inputs) {
    const { ssh_key: k } = await api.request<{ ssh_key: Json }>('POST', '/v2/account/keys', { name: inputs.name, public_key: inputs.publicKey });
    return { id: String(k.id), outputs: sshKeyOutputs(k, inputs) };
  },
  async update(api, id, inputs) {
    const { ssh_key: k } = await api.request<{ ssh_key: Json }>('PUT', `/v2/account/keys/${id}`, { name: inputs.name });
    return sshKeyOutputs(k, inputs);
  },
  async remove(api, id) {
    await api.remove(`/v2/account/keys/${id}`);
  },
};

function sshKeyOutputs(k: Json, inputs: PropertyMap): PropertyMap {
  return compact({ id: String(k.id), name: str(k.name as PropertyValue) ?? inputs.name, publicKey: inputs.publicKey, fingerprint: str(k.fingerprint as PropertyValue) ?? '' });
}

type Rule = Record<string, PropertyValue>;
function firewallBody(inputs: PropertyMap): Json {
  const rules = (v: PropertyValue | undefined): Rule[] => (Array.isArray(v) ? (v as Rule[]) : []);
  const endpoints = (r: Rule, side: 'source' | 'destination'): Json =>
    compact({
      addresses: r[`${side}Addresses`],
      droplet_ids: r[`${side}DropletIds`],
      tags: r[`${side}Tags`],
      load_balancer_uids: r[`${side}LoadBalancerUids`],
      kubernetes_ids: r[`${side}KubernetesIds`],
    });
  return compact({
    name: inputs.name,
    droplet_ids: inputs.dropletIds,
    tags: inputs.tags,
    inbound_rules: rules(inputs.inboundRules).map((r) => compact({ protocol: r.protocol, ports: r.portRange, sources: endpoints(r, 'source') as PropertyValue })) as PropertyValue,
    outbound_rules: rules(inputs.outboundRules).map((r) => compact({ protocol: r.protocol, ports: r.portRange, destinations: endpoints(r, 'destination') as PropertyValue })) as PropertyValue,
  });
}

function firewallOutputs(f: Json, inputs: PropertyMap): PropertyMap {
  return compact({
    id: String(f.id),
    name: str(f.name as PropertyValue) ?? inputs.name,
    status: str(f.status as PropertyValue) ?? 'succeeded',
    createdAt: str(f.created_at as PropertyValue) ?? '',
    pendingChanges: [],
    dropletIds: inputs.dropletIds ?? [],
    tags: inputs.tags ?? [],
    inboundRules: inputs.inboundRules ?? [],
    outboundRules: inputs.outboundRules ?? [],
  });
}

const firewall: ResourceHandler = {
  replaceOnChanges: () => false,
  async create(api, inputs) {
    const { firewall: f } = await api.request<{ firewall: Json }>('POST', '/v2/firewalls', firewallBody(inputs));
    return { id: String(f.id), outputs: firewallOutputs(f, inputs) };
  },
  async update(api, id, inputs) {
    const { firewall: f } = await api.request<{ firewall: Json }>('PUT', `/v2/firewalls/${id}`, firewallBody(inputs));
    return firewallOutputs(f ?? { id }, inputs);
  },
  async remove(api, id) {
    await api.remove(`/v2/firewalls/${id}`);
  },
};

function recordBody(inputs: PropertyMap): Json {
  return compact({ type: inputs.type, name: inputs.name, data: inputs.value, ttl: inputs.ttl, priority: inputs.priority, port: inputs.port, weight: inputs.weight, flags: inputs.flags, tag: inputs.tag });
}
function recordOutputs(r: Json, inputs: PropertyMap): PropertyMap {
  const name = str(inputs.name) ?? '@';
  const domain = str(inputs.domain) ?? '';
  return compact({
    ...inputs,
    id: String(r.id),
    ttl: (r.ttl as number | undefined) ?? inputs.ttl ?? 1800,
    fqdn: name === '@' ? domain : `${name}.${domain}`,
  });
}
const dnsRecord: ResourceHandler = {
  replaceOnChanges: (changed) => changed.includes('domain') || changed.includes('type'),
  async create(api, inputs) {
    const { domain_record: r } = await api.request<{ domain_record: Json }>('POST', `/v2/domains/${String(inputs.domain)}/records`, recordBody(inputs));
    return { id: String(r.id), outputs: recordOutputs(r, inputs) };
  },
  async update(api, id, inputs) {
    const { domain_record: r } = await api.request<{ domain_record: Json }>('PUT', `/v2/domains/${String(inputs.domain)}/records/${id}`, recordBody(inputs));
    return recordOutputs(r ?? { id }, inputs);
  },
  async remove(api, id, outputs) {
    await api.remove(`/v2/domains/${String(outputs.domain)}/records/${id}`);
  },
};

export const handlers: Record<string, ResourceHandler> = {
  'digitalocean:index/droplet:Droplet': droplet,
  'digitalocean:index/sshKey:SshKey': sshKey,
  'digitalocean:index/firewall:Firewall': firewall,
  'digitalocean:index/dnsRecord:DnsRecord': dnsRecord,
};
