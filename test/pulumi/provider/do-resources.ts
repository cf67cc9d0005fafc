import { DoRequestError, sleep } from './do-api.js';
import { droplet } from './droplet.js';
import type { DoResource, Diff } from './resource.js';
import { compact, deepEqual, sameSet, type PropertyMap, type PropertyValue } from './values.js';

/**
 * The DigitalOcean resources of OoD's program as the real provider (pulumi-digitalocean over the
 * Terraform provider v2.75) handles them: SshKey, Droplet (droplet.ts), Firewall, DnsRecord, with
 * the Terraform schema's ForceNew rules and godo's request bodies. Handlers see plain values.
 */
type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

function notFound(err: unknown): boolean {
  return err instanceof DoRequestError && err.status === 404;
}

/** Builds a Diff from (key, same, forceNew) checks. */
function diffOf(checks: [string, boolean, boolean][]): Diff {
  const changed = checks.filter(([, same]) => !same);
  return { changes: changed.map(([k]) => k), replaces: changed.filter(([, , forceNew]) => forceNew).map(([k]) => k) };
}

export function sshKeyOutputs(k: Json): PropertyMap {
  return { id: String(k.id), name: str(k.name) ?? '', publicKey: str(k.public_key) ?? '', fingerprint: str(k.fingerprint) ?? '' };
}

const sshKey: DoResource = {
  check: (news) => news,
  diff: (olds, news) =>
    diffOf([
      // DiffSuppressFunc: surrounding whitespace of the key does not count.
      ['publicKey', String(news.publicKey ?? '').trim() === String(olds.publicKey ?? '').trim(), true],
      ['name', news.name === olds.name, false],
    ]),
  async create(api, inputs) {
    const { ssh_key: k } = await api.request<{ ssh_key: Json }>('POST', '/v2/account/keys', { name: inputs.name, public_key: inputs.publicKey });
    const id = String(k.id);
    // The provider reads the key back at once, retrying a 404 (the API is eventually consistent).
    for (let attempt = 0; ; attempt++) {
      const read = await sshKey.read(api, id, {});
      if (read) return { id, outputs: read };
      if (attempt >= 10) throw new Error(`Error retrieving SSH key ${id}: not found after creating it`);
      await sleep(api.scaled(1000));
    }
  },
  async read(api, id) {
    try {
      return sshKeyOutputs((await api.request<{ ssh_key: Json }>('GET', `/v2/account/keys/${id}`)).ssh_key);
    } catch (err) {
      if (notFound(err)) return null;
      throw new Error(`Error retrieving SSH key: ${(err as Error).message}`, { cause: err });
    }
  },
  async update(api, id, _olds, news) {
    const { ssh_key: k } = await api.request<{ ssh_key: Json }>('PUT', `/v2/account/keys/${id}`, { name: news.name });
    return sshKeyOutputs(k);
  },
  async delete(api, id) {
    await api.remove(`/v2/account/keys/${id}`);
  },
};

type Rule = Record<string, PropertyValue>;
const SIDES = { inbound: ['source', 'sources'], outbound: ['destination', 'destinations'] } as const;
const TARGETS = [
  ['Addresses', 'addresses'],
  ['DropletIds', 'droplet_ids'],
  ['Tags', 'tags'],
  ['LoadBalancerUids', 'load_balancer_uids'],
  ['KubernetesIds', 'kubernetes_ids'],
] as const;
const rulesOf = (v: PropertyValue | undefined): Rule[] => (Array.isArray(v) ? (v as Rule[]) : []);

/** godo's FirewallRequest: every field sent, `null` for an empty list; a rule's empty targets left out. */
export function firewallBody(inputs: PropertyMap): Json {
  const rules = (v: PropertyValue | undefined, dir: keyof typeof SIDES): Json[] | null => {
    const [prefix, key] = SIDES[dir];
    const list = rulesOf(v).map((r) => {
      const targets: Json = {};
      for (const [suffix, field] of TARGETS) {
        const t = r[`${prefix}${suffix}`];
        if (Array.isArray(t) && t.length > 0) targets[field] = t;
      }
      return { protocol: r.protocol, ...(r.portRange ? { ports: r.portRange } : {}), [key]: targets };
    });
    return list.length > 0 ? list : null;
  };
  const list = (v: PropertyValue | undefined): PropertyValue[] | null => (Array.isArray(v) && v.length > 0 ? v : null);
  return {
    name: inputs.name,
    inbound_rules: rules(inputs.inboundRules, 'inbound'),
    outbound_rules: rules(inputs.outboundRules, 'outbound'),
    droplet_ids: list(inputs.dropletIds)?.map(Number) ?? null,
    tags: list(inputs.tags),
  };
}

export function firewallOutputs(f: Json): PropertyMap {
  const rules = (v: unknown, dir: keyof typeof SIDES): Rule[] => {
    const [prefix, key] = SIDES[dir];
    return (Array.isArray(v) ? (v as Json[]) : []).map((r) => {
      const targets = (r[key] ?? {}) as Json;
      const ports = str(r.ports);
      return compact({
        protocol: str(r.protocol) ?? '',
        // flattenFirewallRules: DigitalOcean's "0" means every port, or for icmp that none was given.
        portRange: ports === '0' ? (r.protocol === 'icmp' ? undefined : 'all') : ports,
        ...Object.fromEntries(TARGETS.map(([suffix, field]) => [`${prefix}${suffix}`, (targets[field] as PropertyValue | undefined) ?? []])),
      });
    });
  };
  return {
    id: String(f.id),
    name: str(f.name) ?? '',
    status: str(f.status) ?? '',
    createdAt: str(f.created_at) ?? '',
    pendingChanges: (Array.isArray(f.pending_changes) ? (f.pending_changes as Json[]) : []).map((p) =>
      compact({ dropletId: p.droplet_id as number | undefined, removing: p.removing as boolean | undefined, status: str(p.status) }),
    ),
    dropletIds: Array.isArray(f.droplet_ids) ? (f.droplet_ids as number[]) : [],
    tags: Array.isArray(f.tags) ? (f.tags as string[]) : [],
    inboundRules: rules(f.inbound_rules, 'inbound'),
    outboundRules: rules(f.outbound_rules, 'outbound'),
  };
}

/** A rule as a set element: empty target lists and a missing port range are the same as none. */
function ruleKey(v: PropertyValue): string {
  const r = v as Rule;
  const out: Record<string, PropertyValue> = { protocol: r.protocol ?? '', portRange: r.portRange === '0' ? 'all' : (r.portRange ?? '') };
  for (const [k, x] of Object.entries(r)) {
    if (Array.isArray(x) && x.length > 0) out[k] = x.map(String).sort();
  }
  return JSON.stringify(Object.keys(out).sort().map((k) => [k, out[k]]));
}

const firewall: DoResource = {
  check: (news) => news,
  diff: (olds, news) =>
    diffOf([
      ['name', news.name === olds.name, false],
      ['dropletIds', sameSet((news.dropletIds as PropertyValue[] | undefined)?.map(Number) ?? [], olds.dropletIds ?? []), false],
      ['tags', sameSet(news.tags ?? [], olds.tags ?? []), false],
      ['inboundRules', sameSet(news.inboundRules ?? [], olds.inboundRules ?? [], ruleKey), false],
      ['outboundRules', sameSet(news.outboundRules ?? [], olds.outboundRules ?? [], ruleKey), false],
    ]),
  async create(api, inputs) {
    const { firewall: f } = await api.request<{ firewall: Json }>('POST', '/v2/firewalls', firewallBody(inputs));
    const id = String(f.id);
    const read = await firewall.read(api, id, {});
    if (!read) throw new Error(`Error retrieving firewall ${id}: not found after creating it`);
    return { id, outputs: read };
  },
  async read(api, id) {
    try {
      return firewallOutputs((await api.request<{ firewall: Json }>('GET', `/v2/firewalls/${id}`)).firewall);
    } catch (err) {
      if (notFound(err)) return null;
      throw new Error(`Error retrieving firewall: ${(err as Error).message}`, { cause: err });
    }
  },
  async update(api, id, _olds, news) {
    await api.request('PUT', `/v2/firewalls/${id}`, firewallBody(news));
    const read = await firewall.read(api, id, {});
    if (!read) throw new Error(`Error retrieving firewall ${id}: gone after updating it`);
    return read;
  },
  async delete(api, id) {
    await api.remove(`/v2/firewalls/${id}`);
  },
};

/** godo's DomainRecordEditRequest: priority, port, weight and flags always sent (0 when unset). */
export function recordBody(inputs: PropertyMap): Json {
  const int = (v: PropertyValue | undefined): number => (typeof v === 'number' ? v : 0);
  return compact({
    type: inputs.type,
    name: inputs.name,
    data: inputs.value,
    priority: int(inputs.priority),
    port: int(inputs.port),
    ttl: typeof inputs.ttl === 'number' && inputs.ttl > 0 ? inputs.ttl : undefined,
    weight: int(inputs.weight),
    flags: int(inputs.flags),
    tag: inputs.tag || undefined,
  });
}

export function recordOutputs(r: Json, domain: string): PropertyMap {
  const name = str(r.name) ?? '@';
  return compact({
    id: String(r.id),
    domain,
    type: str(r.type) ?? '',
    name,
    value: str(r.data) ?? '',
    ttl: (r.ttl as number | undefined) ?? 1800,
    priority: (r.priority as number | null | undefined) ?? undefined,
    port: (r.port as number | null | undefined) ?? undefined,
    weight: (r.weight as number | null | undefined) ?? undefined,
    flags: (r.flags as number | null | undefined) ?? undefined,
    tag: str(r.tag),
    fqdn: name === '@' ? domain : `${name}.${domain}`,
  });
}

const dnsRecord: DoResource = {
  check: (news) => news,
  diff: (olds, news) =>
    diffOf([
      ['domain', news.domain === olds.domain, true],
      ['type', news.type === olds.type, true],
      ['name', news.name === olds.name, false],
      ['value', news.value === olds.value, false],
      // Optional+Computed: unset keeps what DigitalOcean chose (1800).
      ['ttl', news.ttl === undefined || deepEqual(news.ttl, olds.ttl), false],
      ...(['priority', 'port', 'weight', 'flags', 'tag'] as const).map((k): [string, boolean, boolean] => [k, news[k] === undefined || deepEqual(news[k], olds[k]), false]),
    ]),
  async create(api, inputs) {
    const domain = String(inputs.domain);
    const { domain_record: r } = await api.request<{ domain_record: Json }>('POST', `/v2/domains/${domain}/records`, recordBody(inputs));
    return { id: String(r.id), outputs: recordOutputs(r, domain) };
  },
  async read(api, id, olds) {
    const domain = String(olds.domain);
    try {
      return recordOutputs((await api.request<{ domain_record: Json }>('GET', `/v2/domains/${domain}/records/${id}`)).domain_record, domain);
    } catch (err) {
      if (notFound(err)) return null;
      throw new Error(`Error retrieving domain record: ${(err as Error).message}`, { cause: err });
    }
  },
  async update(api, id, olds, news) {
    const domain = String(olds.domain);
    const { domain_record: r } = await api.request<{ domain_record: Json }>('PUT', `/v2/domains/${domain}/records/${id}`, recordBody(news));
    return recordOutputs(r, domain);
  },
  async delete(api, id, olds) {
    // A record already gone is fine (resource_record.go).
    await api.remove(`/v2/domains/${String(olds.domain)}/records/${id}`);
  },
};

export const resources: Record<string, DoResource> = {
  'digitalocean:index/droplet:Droplet': droplet,
  'digitalocean:index/sshKey:SshKey': sshKey,
  'digitalocean:index/firewall:Firewall': firewall,
  'digitalocean:index/dnsRecord:DnsRecord': dnsRecord,
};
