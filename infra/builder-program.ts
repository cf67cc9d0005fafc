import * as digitalocean from '@pulumi/digitalocean';
import * as pulumi from '@pulumi/pulumi';
import { installationTag } from './program.js';

/**
 * The image build's builder droplet, in a stack of its own (`ood-image-<server>`): a droplet from the
 * image in stack config `ood:image` (a stock distribution slug, or a server's newest snapshot when a
 * rebuild keeps its world), a throwaway SSH key, and a firewall that lets in SSH only.
 */
export interface BuilderSpec {
  /** The server the image is for; the builder is named `ood-image-<server>`. */
  server: string;
  region: string;
  size: string;
  sshPublicKey: string;
  /** cloud-config with the builder's host key (a secret). */
  userData: string;
  sshSources: string[];
  /** This installation's id: the builder is tagged with it, so another installation never removes it. */
  installation: string;
}

export function builderName(server: string): string {
  return `ood-image-${server}`;
}

export function builderProgram(spec: BuilderSpec): () => Promise<{ dropletId: pulumi.Output<string>; ipv4: pulumi.Output<string> }> {
  return async () => {
    const name = builderName(spec.server);
    const image = new pulumi.Config('ood').require('image');
    const key = new digitalocean.SshKey(name, { name, publicKey: spec.sshPublicKey });
    const droplet = new digitalocean.Droplet(name, {
      name,
      image,
      size: spec.size,
      region: spec.region,
      sshKeys: [key.fingerprint],
      userData: pulumi.secret(spec.userData),
      // Not `ood`: a builder is no server's host; `ood image build` removes it (or says it kept it).
      tags: ['ood-image-builder', installationTag(spec.installation)],
      monitoring: false,
      gracefulShutdown: true,
      ipv6: false,
    });
    new digitalocean.Firewall(name, {
      name,
      dropletIds: [droplet.id.apply(Number)],
      inboundRules: [{ protocol: 'tcp', portRange: '22', sourceAddresses: [...spec.sshSources] }],
      outboundRules: [
        { protocol: 'tcp', portRange: '1-65535', destinationAddresses: ['0.0.0.0/0', '::/0'] },
        { protocol: 'udp', portRange: '1-65535', destinationAddresses: ['0.0.0.0/0', '::/0'] },
        { protocol: 'icmp', destinationAddresses: ['0.0.0.0/0', '::/0'] },
      ],
    });
    return { dropletId: droplet.id, ipv4: droplet.ipv4Address };
  };
}
