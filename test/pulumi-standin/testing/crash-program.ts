import * as digitalocean from '@pulumi/digitalocean';

/** The program of stack ood-crash: a droplet and the firewall that needs its id. */
export async function crashProgram(): Promise<Record<string, unknown>> {
  const droplet = new digitalocean.Droplet('ood-crash', { name: 'ood-crash', region: 'ams3', size: 's-1vcpu-1gb', image: 'debian-12-x64' });
  new digitalocean.Firewall('ood-crash', {
    name: 'ood-crash',
    dropletIds: [droplet.id.apply(Number)],
    inboundRules: [{ protocol: 'tcp', portRange: '25565', sourceAddresses: ['0.0.0.0/0'] }],
  });
  return { dropletId: droplet.id };
}
