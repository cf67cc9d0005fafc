/**
 * Everything the fake account holds. Records use the fake's own camelCase fields; `render.ts` turns
 * them into the API's JSON. Tests read this (as `fake.state`) to assert what exists.
 */
import type { DistributionImage } from './catalog.js';

export type DropletStatus = 'new' | 'active' | 'off' | 'archive';
export type ActionStatus = 'in-progress' | 'completed' | 'errored';

export interface Droplet {
  id: number;
  name: string;
  status: DropletStatus;
  sizeSlug: string;
  region: string;
  /** What the droplet was created from. */
  image: { kind: 'snapshot'; snapshot: Snapshot } | { kind: 'distribution'; distribution: DistributionImage };
  tags: string[];
  userData: string;
  sshKeyIds: number[];
  /** Public address, `${ipBase}.N`. The API shows networks only once the droplet has left `new`. */
  ipv4: string;
  privateIpv4: string;
  ipv6: string | null;
  monitoring: boolean;
  createdAt: string;
}

export interface Snapshot {
  id: number;
  name: string;
  createdAt: string;
  regions: string[];
  /** The droplet it was taken from (DigitalOcean keeps this after the droplet is gone). */
  resourceId: number;
  minDiskSize: number;
  sizeGigabytes: number;
  tags: string[];
  /** The archive file the machine backend wrote, when there is one. */
  archive?: string;
  /** ms epoch from which listings show it (`snapshotListingDelayMs` after its action completed). */
  listedAt: number;
}

export interface Action {
  id: number;
  type: string;
  status: ActionStatus;
  startedAt: string;
  completedAt: string | null;
  resourceId: number;
  region: string;
  /** Why it errored (machine backend failure or injected fault); not part of the API's answer. */
  error?: string;
}

export interface SshKey {
  id: number;
  name: string;
  publicKey: string;
  fingerprint: string;
}

export interface FirewallRule {
  protocol: string;
  ports: string;
  /** `sources` for inbound rules, `destinations` for outbound ones. */
  targets: { addresses?: string[]; droplet_ids?: number[]; load_balancer_uids?: string[]; kubernetes_ids?: string[]; tags?: string[] };
}

export interface Firewall {
  id: string;
  name: string;
  createdAt: string;
  dropletIds: number[];
  tags: string[];
  inboundRules: FirewallRule[];
  outboundRules: FirewallRule[];
}

export interface DomainRecord {
  id: number;
  domain: string;
  type: string;
  name: string;
  data: string;
  priority: number | null;
  port: number | null;
  ttl: number;
  weight: number | null;
  flags: number | null;
  tag: string | null;
}

export class FakeDoState {
  readonly droplets = new Map<number, Droplet>();
  /** Every snapshot, listed or not yet; see `listedSnapshots`. */
  readonly snapshots = new Map<number, Snapshot>();
  readonly actions = new Map<number, Action>();
  readonly keys = new Map<number, SshKey>();
  readonly firewalls = new Map<string, Firewall>();
  readonly records = new Map<number, DomainRecord>();
  readonly tags = new Set<string>();
  /** Domains that exist; `null` means any domain name is accepted. */
  domains: Set<string> | null = null;

  // Ids look like the real API's (large integers) and never repeat within a fake.
  private lastDropletId = 510_000_000;
  private lastActionId = 2_400_000_000;
  private lastImageId = 188_000_000;
  private lastKeyId = 43_000_000;
  private lastRecordId = 1_700_000_000;
  private lastHost = 1;

  nextDropletId(): number {
    return ++this.lastDropletId;
  }
  nextActionId(): number {
    return ++this.lastActionId;
  }
  nextImageId(): number {
    return ++this.lastImageId;
  }
  nextKeyId(): number {
    return ++this.lastKeyId;
  }
  nextRecordId(): number {
    return ++this.lastRecordId;
  }
  /**
   * The next host number for `${ipBase}.N`, N from 2 up. Numbers are not reused while there are fresh
   * ones, so a just-destroyed loopback machine never shares its address with a new one.
   */
  nextHost(ipBase: string): number {
    const inUse = new Set([...this.droplets.values()].map((d) => d.ipv4));
    for (let tries = 0; tries < 253; tries++) {
      this.lastHost = this.lastHost >= 254 ? 2 : this.lastHost + 1;
      if (!inUse.has(`${ipBase}.${this.lastHost}`)) return this.lastHost;
    }
    throw new Error(`Every address ${ipBase}.2-254 is taken by a droplet; delete some droplets`);
  }

  /** Snapshots the API shows now (their listing delay has passed). */
  listedSnapshots(now = Date.now()): Snapshot[] {
    return [...this.snapshots.values()].filter((s) => s.listedAt <= now);
  }

  dropletActions(dropletId: number): Action[] {
    return [...this.actions.values()].filter((a) => a.resourceId === dropletId);
  }
}
