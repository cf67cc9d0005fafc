import { z } from 'zod';

/**
 * The parts of DigitalOcean's answers OoD reads, parsed at the boundary: every field used is checked,
 * everything else is dropped. Field names follow DigitalOcean's OpenAPI description
 * (`../shared/digitalocean/openapi-v2-subset.json`).
 */

/** Snapshot ids are strings in `/v2/snapshots` but integers in `/v2/images`: accept both, keep a string. */
const idString = z.union([z.string().min(1), z.number().int()]).transform(String);

export const dropletSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  status: z.enum(['new', 'active', 'off', 'archive']),
  size_slug: z.string(),
  region: z.object({ slug: z.string() }),
  image: z.object({ id: z.number().int(), name: z.string() }),
  tags: z.array(z.string()),
  networks: z.object({
    v4: z.array(z.object({ ip_address: z.string(), type: z.enum(['public', 'private']) })),
  }),
  created_at: z.string(),
});
export type Droplet = z.infer<typeof dropletSchema>;

const orNull = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? null);

// DigitalOcean's description marks no action field required; OoD needs only id, status and type.
export const actionSchema = z.object({
  id: z.number().int(),
  status: z.enum(['in-progress', 'completed', 'errored']),
  type: z.string(),
  started_at: orNull(z.string()),
  completed_at: orNull(z.string()),
  resource_id: orNull(z.number().int()),
  resource_type: orNull(z.string()),
  region_slug: orNull(z.string()),
});
export type Action = z.infer<typeof actionSchema>;
export type ActionStatus = Action['status'];

export const snapshotSchema = z.object({
  id: idString,
  name: z.string(),
  created_at: z.string(),
  regions: z.array(z.string()),
  resource_id: idString,
  resource_type: z.string(),
  min_disk_size: z.number(),
  /** The billed size (DigitalOcean charges per GB-month of this). */
  size_gigabytes: z.number(),
  tags: z.array(z.string()).nullish().transform((v) => v ?? []),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const sizeSchema = z.object({
  slug: z.string(),
  memory: z.number(),
  vcpus: z.number(),
  disk: z.number(),
  price_monthly: z.number(),
  price_hourly: z.number(),
  regions: z.array(z.string()),
  available: z.boolean(),
  description: z.string().optional(),
});
export type Size = z.infer<typeof sizeSchema>;

/** An SSH key of the account, as far as OoD reads it (to find a key a killed update created). */
export const sshKeySchema = z.object({ id: z.number().int(), fingerprint: z.string(), name: z.string() });
export type SshKey = z.infer<typeof sshKeySchema>;

/** A cloud firewall, as far as OoD reads it (to find one a killed update created). */
export const firewallSchema = z.object({ id: z.string(), name: z.string(), droplet_ids: z.array(z.number().int()).nullish() });
export type Firewall = z.infer<typeof firewallSchema>;

/** The paging part of a list answer; the items sit under a key named after the resource. */
export const pageLinksSchema = z.object({
  links: z.object({ pages: z.object({ next: z.string().optional() }).nullish() }).nullish(),
  meta: z.object({ total: z.number().int() }).nullish(),
});

/** DigitalOcean's error body: `{"id": "not_found", "message": "...", "request_id": "..."}`. */
export const errorBodySchema = z.object({
  id: z.string(),
  message: z.string(),
  request_id: z.string().optional(),
});

export type DropletAction =
  | { type: 'shutdown' }
  | { type: 'power_off' }
  | { type: 'power_on' }
  | { type: 'snapshot'; name: string };

/** The droplet's public IPv4 address, or null while DigitalOcean has not assigned one yet (`new`). */
export function publicIpv4(droplet: Pick<Droplet, 'networks'>): string | null {
  return droplet.networks.v4.find((n) => n.type === 'public')?.ip_address ?? null;
}
