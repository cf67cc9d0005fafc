import * as pulumi from '@pulumi/pulumi';
import { beforeEach, describe, expect, it } from 'vitest';
import { readServerOutputs, serverProgram, ServerOutputsError, ServerSpecError, type ServerSpec } from './program.js';

// The program runs against Pulumi's mock monitor: no engine, no CLI, no DigitalOcean. Every resource the
// program registers is recorded with its inputs exactly as the engine would receive them.
interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
let nextId = 4000;

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
    const id = String(nextId++);
    const state: Record<string, unknown> = { ...args.inputs };
    if (args.type === 'digitalocean:index/droplet:Droplet') state.ipv4Address = '203.0.113.7';
    if (args.type === 'digitalocean:index/sshKey:SshKey') state.fingerprint = 'aa:bb:cc:dd';
    return { id, state };
  },
  call(args) {
    throw new Error(`the program made an unexpected provider call: ${args.token}`);
  },
};

const IMAGE = '187654321';
const USER_DATA = '#cloud-config\nssh_keys:\n  ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n';
const RCON_PORT = '25575';

function baseSpec(over: Partial<ServerSpec> = {}): ServerSpec {
  return {
    server: 'survival',
    region: 'fra1',
    size: 's-1vcpu-2gb',
    gamePort: 25565,
    sshSources: ['198.51.100.4/32'],
    sshPublicKey: 'ssh-ed25519 AAAAC3Nza ood-survival',
    userData: USER_DATA,
    installation: '0a1b2c3d',
    ...over,
  };
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Runs the program to completion: outputs resolved and every registration finished. */
async function run(spec: ServerSpec) {
  const out = await serverProgram(spec)();
  const resolved = { dropletId: await valueOf(out.dropletId), ipv4: await valueOf(out.ipv4), fqdn: out.fqdn };
  // Resources that depend on the droplet (firewall, DNS) register after it: wait for the RPC queue.
  await pulumi.runtime.disconnect();
  return resolved;
}

function only(type: string): Registered {
  const found = registered.filter((r) => r.type === `digitalocean:index/${type}`);
  expect(found, type).toHaveLength(1);
  return found[0]!;
}

function types(): string[] {
  return registered.map((r) => r.type).sort();
}

beforeEach(async () => {
  registered.length = 0;
  nextId = 4000;
  await pulumi.runtime.setMocks(mocks, 'ood', 'ood-survival');
  pulumi.runtime.setAllConfig({ 'ood:image': IMAGE });
});

describe('serverProgram', () => {
  it('declares the droplet from the image in the stack config, with the spec and OoD names', async () => {
    await run(baseSpec());
    const droplet = only('droplet:Droplet');
    expect(droplet.name).toBe('ood-survival');
    const { userData, ...rest } = droplet.inputs;
    expect(rest).toEqual({
      name: 'ood-survival',
      image: IMAGE,
      size: 's-1vcpu-2gb',
      region: 'fra1',
      sshKeys: ['aa:bb:cc:dd'],
      // The third tag tells this installation's droplet from another's with the same server id.
      tags: ['ood', 'ood-survival', 'ood:installation:0a1b2c3d'],
      monitoring: true,
      gracefulShutdown: true,
      ipv6: false,
    });
    // A secret reaches the engine wrapped, so state files and logs only ever hold it encrypted.
    expect(userData).toEqual({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: USER_DATA });
  });

  it('creates the SSH key ood-<server> from OoD public key', async () => {
    await run(baseSpec());
    const key = only('sshKey:SshKey');
    expect(key.name).toBe('ood-survival');
    expect(key.inputs).toEqual({ name: 'ood-survival', publicKey: 'ssh-ed25519 AAAAC3Nza ood-survival' });
  });

  it('uses an existing key id without creating an SshKey', async () => {
    await run(baseSpec({ sshPublicKey: undefined, sshKeyId: '512190' }));
    expect(registered.some((r) => r.type.endsWith('SshKey'))).toBe(false);
    expect(only('droplet:Droplet').inputs.sshKeys).toEqual(['512190']);
  });

  it('puts both keys on the droplet when given both', async () => {
    await run(baseSpec({ sshKeyId: '512190' }));
    only('sshKey:SshKey');
    expect(only('droplet:Droplet').inputs.sshKeys).toEqual(['aa:bb:cc:dd', '512190']);
  });

  it('opens the game port only to the given sources when the lobby proxies it', async () => {
    await run(baseSpec({ gamePort: 25570, sshSources: ['198.51.100.4/32'], gameSources: ['198.51.100.4/32'] }));
    expect((only('firewall:Firewall').inputs.inboundRules as unknown[])[0]).toEqual({ protocol: 'tcp', portRange: '25570', sourceAddresses: ['198.51.100.4/32'] });
  });

  it('turns monitoring off only when asked', async () => {
    await run(baseSpec({ monitoring: false }));
    expect(only('droplet:Droplet').inputs.monitoring).toBe(false);
  });

  it('opens the game port to all, SSH only to the given sources, and never RCON', async () => {
    const out = await run(baseSpec({ gamePort: 25570, sshSources: ['198.51.100.4/32', '2001:db8::/48'] }));
    const firewall = only('firewall:Firewall');
    expect(firewall.name).toBe('ood-survival');
    expect(firewall.inputs.name).toBe('ood-survival');
    expect(firewall.inputs.dropletIds).toEqual([Number(out.dropletId)]); // DO wants numbers here
    expect(firewall.inputs.inboundRules).toEqual([
      { protocol: 'tcp', portRange: '25570', sourceAddresses: ['0.0.0.0/0', '::/0'] },
      { protocol: 'tcp', portRange: '22', sourceAddresses: ['198.51.100.4/32', '2001:db8::/48'] },
    ]);
    expect(firewall.inputs.outboundRules).toEqual([
      { protocol: 'tcp', portRange: '1-65535', destinationAddresses: ['0.0.0.0/0', '::/0'] },
      { protocol: 'udp', portRange: '1-65535', destinationAddresses: ['0.0.0.0/0', '::/0'] },
      { protocol: 'icmp', destinationAddresses: ['0.0.0.0/0', '::/0'] },
    ]);
    const inbound = firewall.inputs.inboundRules as { portRange: string }[];
    expect(inbound.map((r) => r.portRange)).not.toContain(RCON_PORT);
  });

  it('makes no DNS record without a domain, and returns the droplet id and address', async () => {
    const out = await run(baseSpec());
    expect(types()).toEqual([
      'digitalocean:index/droplet:Droplet',
      'digitalocean:index/firewall:Firewall',
      'digitalocean:index/sshKey:SshKey',
    ]);
    const dropletId = String(4000 + registered.findIndex((r) => r.type.endsWith('Droplet')));
    expect(out).toEqual({ dropletId, ipv4: '203.0.113.7', fqdn: null });
  });

  it('makes an A record pointing at the droplet with a short TTL when given a domain', async () => {
    const out = await run(baseSpec({ domain: { zone: 'example.com', name: 'survival' } }));
    const record = only('dnsRecord:DnsRecord');
    expect(record.name).toBe('ood-survival');
    expect(record.inputs).toEqual({ domain: 'example.com', type: 'A', name: 'survival', value: '203.0.113.7', ttl: 60 });
    expect(out.fqdn).toBe('survival.example.com');
  });

  it('honours a given TTL and an apex name', async () => {
    const out = await run(baseSpec({ domain: { zone: 'example.com', name: '@', ttl: 300 } }));
    expect(only('dnsRecord:DnsRecord').inputs).toMatchObject({ name: '@', ttl: 300 });
    expect(out.fqdn).toBe('example.com');
  });

  it('fails with the config key when no image was set', async () => {
    pulumi.runtime.setAllConfig({});
    await expect(serverProgram(baseSpec())()).rejects.toThrow(/ood:image/);
    expect(registered).toEqual([]);
  });

  it.each([
    ['no SSH sources', { sshSources: [] }, /no SSH sources/],
    ['no SSH key at all', { sshPublicKey: undefined }, /no SSH key/],
    ['a game port of 22', { gamePort: 22 }, /game port 22/],
    ['a bad server id', { server: 'Survival World' }, /lowercase/],
    ['no installation id', { installation: '' }, /installation id/],
  ])('refuses %s before declaring anything', (_what, over, message) => {
    expect(() => serverProgram(baseSpec(over))).toThrow(ServerSpecError);
    expect(() => serverProgram(baseSpec(over))).toThrow(message);
  });
});

describe('readServerOutputs', () => {
  it('reads resolved stack outputs, a missing fqdn as null', () => {
    expect(readServerOutputs({ dropletId: '4001', ipv4: '203.0.113.7' })).toEqual({ dropletId: '4001', ipv4: '203.0.113.7', fqdn: null });
    expect(readServerOutputs({ dropletId: '4001', ipv4: '203.0.113.7', fqdn: 'a.example.com' }).fqdn).toBe('a.example.com');
  });

  it('rejects outputs of another shape', () => {
    expect(() => readServerOutputs({ dropletId: 4001, ipv4: '203.0.113.7' })).toThrow(ServerOutputsError);
    expect(() => readServerOutputs({ dropletId: '4001' })).toThrow(/ipv4/);
  });
});
