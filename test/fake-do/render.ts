/** The fake's records as DigitalOcean's JSON (field names and shapes from the OpenAPI description). */
import { REGIONS, SIZES, findRegion, findSize, type DistributionImage, type SizeInfo } from './catalog.js';
import type { Action, Droplet, DomainRecord, FakeDoState, Firewall, FirewallRule, Snapshot, SshKey } from './state.js';

const ALL_REGIONS = REGIONS.map((r) => r.slug);

export function renderRegion(slug: string): Record<string, unknown> {
  return {
    name: findRegion(slug)?.name ?? slug,
    slug,
    features: ['backups', 'ipv6', 'metadata', 'install_agent', 'storage', 'image_transfer'],
    available: true,
    sizes: SIZES.map((s) => s.slug),
  };
}

export function renderSize(size: SizeInfo): Record<string, unknown> {
  return {
    ...size,
    regions: ALL_REGIONS,
    available: true,
    disk_info: [{ type: 'local', size: { amount: size.disk, unit: 'gib' } }],
  };
}

export function renderDistribution(d: DistributionImage): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    distribution: d.distribution,
    slug: d.slug,
    public: true,
    regions: ALL_REGIONS,
    created_at: d.createdAt,
    type: 'base',
    min_disk_size: d.minDiskSize,
    size_gigabytes: d.sizeGigabytes,
    description: `${d.distribution} ${d.name}`,
    tags: [],
    status: 'available',
    error_message: '',
  };
}

/** A snapshot seen through /v2/images: a private image of type `snapshot`. */
export function renderSnapshotImage(s: Snapshot): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    distribution: 'Debian',
    slug: null,
    public: false,
    regions: s.regions,
    created_at: s.createdAt,
    type: 'snapshot',
    min_disk_size: s.minDiskSize,
    size_gigabytes: s.sizeGigabytes,
    description: '',
    tags: s.tags,
    status: 'available',
    error_message: '',
  };
}

export function renderSnapshot(s: Snapshot): Record<string, unknown> {
  return {
    id: String(s.id),
    name: s.name,
    created_at: s.createdAt,
    regions: s.regions,
    resource_id: String(s.resourceId),
    resource_type: 'droplet',
    min_disk_size: s.minDiskSize,
    size_gigabytes: s.sizeGigabytes,
    tags: s.tags,
  };
}

/** As `GET /v2/droplets/{id}/snapshots` shows it: integer id and a `type`. */
export function renderDropletSnapshot(s: Snapshot): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    created_at: s.createdAt,
    regions: s.regions,
    min_disk_size: s.minDiskSize,
    size_gigabytes: s.sizeGigabytes,
    type: 'snapshot',
  };
}

export function renderDroplet(d: Droplet, state: FakeDoState, now = Date.now()): Record<string, unknown> {
  const size = findSize(d.sizeSlug);
  if (!size) throw new Error(`Droplet ${d.id} has size ${d.sizeSlug}, which the catalog lacks`);
  const locked = state.dropletActions(d.id).some((a) => a.status === 'in-progress');
  // A droplet has no addresses until it has left `new`; the real API answers the same.
  const booted = d.status !== 'new';
  const features = ['private_networking', ...(d.monitoring ? ['monitoring'] : []), ...(d.ipv6 ? ['ipv6'] : [])];
  return {
    id: d.id,
    name: d.name,
    memory: size.memory,
    vcpus: size.vcpus,
    disk: size.disk,
    disk_info: [{ type: 'local', size: { amount: size.disk, unit: 'gib' } }],
    locked,
    status: d.status,
    kernel: null,
    created_at: d.createdAt,
    features,
    backup_ids: [],
    next_backup_window: null,
    snapshot_ids: state.listedSnapshots(now).filter((s) => s.resourceId === d.id).map((s) => s.id),
    image: d.image.kind === 'snapshot' ? renderSnapshotImage(d.image.snapshot) : renderDistribution(d.image.distribution),
    volume_ids: [],
    size: renderSize(size),
    size_slug: size.slug,
    networks: {
      // The private (VPC) address comes first, as it often does on the real API: clients must pick
      // the entry whose type is `public`.
      v4: booted
        ? [
            { ip_address: d.privateIpv4, netmask: '255.255.240.0', gateway: '10.10.0.1', type: 'private' },
            { ip_address: d.ipv4, netmask: '255.255.255.0', gateway: d.ipv4.replace(/\.\d+$/, '.1'), type: 'public' },
          ]
        : [],
      v6: booted && d.ipv6 ? [{ ip_address: d.ipv6, netmask: 64, gateway: 'fd00::1', type: 'public' }] : [],
    },
    region: renderRegion(d.region),
    tags: d.tags,
    vpc_uuid: vpcUuid(d.region),
  };
}

/** One default VPC per region, with a stable made-up UUID. */
function vpcUuid(region: string): string {
  const n = REGIONS.findIndex((r) => r.slug === region) + 1;
  return `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
}

export function renderAction(a: Action): Record<string, unknown> {
  return {
    id: a.id,
    status: a.status,
    type: a.type,
    started_at: a.startedAt,
    completed_at: a.completedAt,
    resource_id: a.resourceId,
    resource_type: 'droplet',
    region: renderRegion(a.region),
    region_slug: a.region,
  };
}

export function renderKey(k: SshKey): Record<string, unknown> {
  return { id: k.id, fingerprint: k.fingerprint, public_key: k.publicKey, name: k.name };
}

const renderRule = (key: 'sources' | 'destinations') => (r: FirewallRule) => ({ protocol: r.protocol, ports: r.ports, [key]: r.targets });

export function renderFirewall(f: Firewall): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    status: 'succeeded',
    created_at: f.createdAt,
    pending_changes: [],
    droplet_ids: f.dropletIds,
    tags: f.tags,
    inbound_rules: f.inboundRules.map(renderRule('sources')),
    outbound_rules: f.outboundRules.map(renderRule('destinations')),
  };
}

export function renderRecord(r: DomainRecord): Record<string, unknown> {
  return { id: r.id, type: r.type, name: r.name, data: r.data, priority: r.priority, port: r.port, ttl: r.ttl, weight: r.weight, flags: r.flags, tag: r.tag };
}
