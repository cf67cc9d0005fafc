import * as digitalocean from '@pulumi/digitalocean';
import * as pulumi from '@pulumi/pulumi';

/**
 * The Pulumi program of one OoD server on DigitalOcean: a pure function from the server's spec to its
 * resources (droplet, firewall, optional SSH key and DNS record). The image is not in the spec: the
 * controller resolves the newest `ood-<ts>` snapshot through the DO API and sets it as the stack config
 * `ood:image`, because `getDropletSnapshot` fails outright when none exists (see DESIGN.md).
 */
export interface ServerSpec {
  /** OoD server id, e.g. `survival`; every resource is named `ood-<server>`. */
  server: string;
  /**
   * This installation's id (controller/installation-id.ts): the droplet is tagged
   * `ood:installation:<id>`, so a second installation with the same server id on the same account
   * tells its droplet from this one's and never touches it.
   */
  installation: string;
  region: string;
  size: string;
  /** The Minecraft (Java edition, TCP only) port. */
  gamePort: number;
  /**
   * CIDRs allowed to reach the game port; default everyone. Behind the lobby's proxy only OoD's own
   * address: players then come through the lobby (its caps, its PROXY header), never around it.
   */
  gameSources?: string[];
  /**
   * CIDRs allowed to reach port 22. Must not be empty: the controller itself drives the droplet over
   * SSH (stop Minecraft, RCON tunnel), so a droplet without an SSH rule could never be stopped safely.
   */
  sshSources: string[];
  /** OoD's generated public key for this server: becomes a `digitalocean.SshKey` named `ood-<server>`. */
  sshPublicKey?: string;
  /**
   * An SSH key already in the account (id or fingerprint, from the config), put on the droplet besides
   * OoD's own key, or instead of it (then no SshKey resource is made). At least one of the two is needed:
   * without any key DigitalOcean would mail a root password.
   */
  sshKeyId?: string;
  /** cloud-config carrying the SSH host key (controller/drivers/digitalocean/README.md): a secret. */
  userData: string;
  /** An A record `<name>.<zone>` pointing at the droplet; `name` `@` is the zone's apex. */
  domain?: { zone: string; name: string; ttl?: number };
  /** DigitalOcean's monitoring agent; default true. */
  monitoring?: boolean;
}

/** The stack outputs once an update finished, as `stack.ts` reads them back. */
export interface ServerOutputs {
  dropletId: string;
  ipv4: string;
  fqdn: string | null;
}

/** What the program returns to the engine: the same keys, still as Pulumi outputs. */
export interface ServerProgramOutputs {
  dropletId: pulumi.Output<string>;
  ipv4: pulumi.Output<string>;
  fqdn: string | null;
}

/** A spec the program refuses to turn into resources; nothing was created. */
export class ServerSpecError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ServerSpecError';
  }
}

export const DEFAULT_DNS_TTL = 60;
const ANYWHERE = ['0.0.0.0/0', '::/0'];

/**
 * The tag marking a droplet as one installation's. Colons are allowed in DigitalOcean tags but never in
 * a server id, so it can never be read as some server's `ood-<server>`.
 */
export const INSTALLATION_TAG_PREFIX = 'ood:installation:';

export function installationTag(installation: string): string {
  return `${INSTALLATION_TAG_PREFIX}${installation}`;
}

/** The program's name for every resource of a server; deterministic so a repeated `up` finds them. */
export function resourceName(server: string): string {
  return `ood-${server}`;
}

export function fqdnOf(domain: ServerSpec['domain']): string | null {
  if (!domain) return null;
  return domain.name === '@' || domain.name === '' ? domain.zone : `${domain.name}.${domain.zone}`;
}

/** Checks a spec before any resource is declared, so a bad one fails the update with a clear reason. */
export function checkSpec(spec: ServerSpec): void {
  const what = `Server ${spec.server}`;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(spec.server)) {
    throw new ServerSpecError(`${what}: the id must be lowercase letters, digits and dashes to name droplet ood-${spec.server}`);
  }
  if (!/^[a-z0-9]{1,64}$/.test(spec.installation)) {
    throw new ServerSpecError(`${what}: installation id ${JSON.stringify(spec.installation)} is not lowercase letters and digits; it tags the droplet as this installation's`);
  }
  if (!Number.isInteger(spec.gamePort) || spec.gamePort < 1 || spec.gamePort > 65_535 || spec.gamePort === 22) {
    throw new ServerSpecError(`${what}: game port ${spec.gamePort} is not a usable port (1-65535, not 22)`);
  }
  if (spec.sshSources.length === 0) {
    throw new ServerSpecError(
      `${what}: no SSH sources; OoD reaches the droplet over SSH, so list at least the controller's address (or 0.0.0.0/0 and ::/0: keys only)`,
    );
  }
  if (!spec.sshPublicKey && !spec.sshKeyId) {
    throw new ServerSpecError(`${what}: no SSH key; give sshPublicKey (OoD's generated key), sshKeyId (a key in the account) or both`);
  }
}

/** `(spec) => async () => outputs`: the inline program `stack.ts` hands to the Automation API. */
export function serverProgram(spec: ServerSpec): () => Promise<ServerProgramOutputs> {
  checkSpec(spec);
  return async () => {
    const name = resourceName(spec.server);
    const image = new pulumi.Config('ood').require('image');

    const sshKeys: pulumi.Input<string>[] = [];
    if (spec.sshPublicKey) sshKeys.push(new digitalocean.SshKey(name, { name, publicKey: spec.sshPublicKey }).fingerprint);
    if (spec.sshKeyId) sshKeys.push(spec.sshKeyId);

    const droplet = new digitalocean.Droplet(name, {
      name,
      image,
      size: spec.size,
      region: spec.region,
      sshKeys,
      // The user data holds the host's private key: keep it encrypted in the state and out of logs.
      userData: pulumi.secret(spec.userData),
      tags: ['ood', name, installationTag(spec.installation)],
      monitoring: spec.monitoring ?? true,
      // Lets DO shut the OS down cleanly before a destroy; OoD has already stopped Minecraft by then.
      gracefulShutdown: true,
      ipv6: false,
    }, {
      // Each start sets a newer snapshot as `ood:image`; an update while a droplet exists must never
      // replace it (a replacement deletes the old disk, world and all, without a snapshot). Changes to
      // these inputs take effect when the next session's droplet is created. `tags` is deliberately not
      // listed: the provider changes tags in place, so a droplet made before the installation tag
      // existed gets it at its next update.
      ignoreChanges: ['image', 'size', 'region', 'userData', 'sshKeys', 'name'],
    });

    new digitalocean.Firewall(name, {
      name,
      dropletIds: [droplet.id.apply(Number)],
      // RCON is never opened: OoD reaches it through an SSH tunnel to the droplet's loopback.
      inboundRules: [
        { protocol: 'tcp', portRange: String(spec.gamePort), sourceAddresses: [...(spec.gameSources ?? ANYWHERE)] },
        { protocol: 'tcp', portRange: '22', sourceAddresses: [...spec.sshSources] },
      ],
      // A DO firewall denies all egress unless listed; the droplet needs apt, DNS, NTP and DO's metadata.
      outboundRules: [
        { protocol: 'tcp', portRange: '1-65535', destinationAddresses: ANYWHERE },
        { protocol: 'udp', portRange: '1-65535', destinationAddresses: ANYWHERE },
        { protocol: 'icmp', destinationAddresses: ANYWHERE },
      ],
    });

    if (spec.domain) {
      new digitalocean.DnsRecord(name, {
        domain: spec.domain.zone,
        type: 'A',
        name: spec.domain.name,
        value: droplet.ipv4Address,
        // Short: every session gets a new droplet and a new address.
        ttl: spec.domain.ttl ?? DEFAULT_DNS_TTL,
      });
    }

    return { dropletId: droplet.id, ipv4: droplet.ipv4Address, fqdn: fqdnOf(spec.domain) };
  };
}

/** Stack outputs that do not have the shape this program gives them (a stack made by something else). */
export class ServerOutputsError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ServerOutputsError';
  }
}

/** Reads `ServerOutputs` from resolved stack output values (`up().outputs[k].value`). */
export function readServerOutputs(values: Record<string, unknown>): ServerOutputs {
  const { dropletId, ipv4, fqdn } = values;
  if (typeof dropletId !== 'string' || !/^\d+$/.test(dropletId)) {
    throw new ServerOutputsError(`Stack outputs: expected dropletId as a numeric string, got ${JSON.stringify(dropletId)}`);
  }
  if (typeof ipv4 !== 'string' || ipv4 === '') throw new ServerOutputsError(`Stack outputs: expected ipv4, got ${JSON.stringify(ipv4)}`);
  if (fqdn !== null && fqdn !== undefined && typeof fqdn !== 'string') {
    throw new ServerOutputsError(`Stack outputs: expected fqdn as a string or null, got ${JSON.stringify(fqdn)}`);
  }
  return { dropletId, ipv4, fqdn: fqdn ?? null };
}
