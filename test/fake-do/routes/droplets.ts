/** /v2/droplets: list (by tag), create, get, delete (by id or by tag), and a droplet's snapshots. */
import { ApiError, notFound, unprocessable } from '../api-error.js';
import { DEFAULT_REGION, DISTRIBUTIONS, DROPLET_LIMIT, findRegion, findSize } from '../catalog.js';
import { nowIso, type Ctx } from '../context.js';
import type { MachineSpec } from '../machines.js';
import { paginate } from '../pagination.js';
import { renderDroplet, renderDropletSnapshot } from '../render.js';
import { intParam, objectBody, type ApiRequest, type Router } from '../router.js';
import type { Droplet } from '../state.js';
import { resolveKey } from './keys.js';
import { TAG_PATTERN } from './tags.js';

const NAME_PATTERN = /^[a-zA-Z0-9]?[a-z0-9A-Z.-]*[a-z0-9A-Z]$/;

export function dropletRoutes(r: Router, ctx: Ctx): void {
  const { state } = ctx;

  r.add('GET', '/v2/droplets', (req) => {
    const tag = req.query.get('tag_name');
    const name = req.query.get('name');
    const omit = ctx.faults.takeListOmission(tag);
    const all = omit ? [] : [...state.droplets.values()].filter((d) => (tag === null || d.tags.includes(tag)) && (name === null || d.name === name));
    const page = paginate(all, ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { droplets: page.items.map((d) => renderDroplet(d, state)), links: page.links, meta: page.meta } };
  });

  r.add('POST', '/v2/droplets', (req) => createDroplet(ctx, req));

  r.add('GET', '/v2/droplets/:id', (req) => ({ status: 200, body: { droplet: renderDroplet(findDroplet(ctx, req), state) } }));

  r.add('DELETE', '/v2/droplets/:id', async (req) => {
    const droplet = findDroplet(ctx, req);
    if (ctx.faults.deletesIgnored) return { status: 204 };
    await destroyDroplet(ctx, droplet);
    return { status: 204 };
  });

  r.add('DELETE', '/v2/droplets', async (req) => {
    const tag = req.query.get('tag_name');
    if (!tag) throw unprocessable('tag_name is required to delete droplets by tag');
    for (const d of [...state.droplets.values()].filter((d) => d.tags.includes(tag))) await destroyDroplet(ctx, d);
    return { status: 204 };
  });

  r.add('GET', '/v2/droplets/:id/snapshots', (req) => {
    const droplet = findDroplet(ctx, req);
    const page = paginate(
      state.listedSnapshots().filter((s) => s.resourceId === droplet.id),
      ctx.baseUrl(),
      req.path,
      req.query,
    );
    return { status: 200, body: { snapshots: page.items.map(renderDropletSnapshot), links: page.links, meta: page.meta } };
  });
}

export function findDroplet(ctx: Ctx, req: ApiRequest): Droplet {
  const id = intParam(req, 'id');
  const droplet = id === undefined ? undefined : ctx.state.droplets.get(id);
  if (!droplet) throw notFound();
  return droplet;
}

async function destroyDroplet(ctx: Ctx, droplet: Droplet): Promise<void> {
  const { machines } = ctx;
  if (machines) {
    try {
      await ctx.life.onMachine(droplet.id, () => machines.destroy(droplet.id));
    } catch (err) {
      throw new ApiError(500, 'server_error', `The machine of droplet ${droplet.id} could not be destroyed: ${(err as Error).message}`);
    }
  }
  ctx.state.droplets.delete(droplet.id);
  // DigitalOcean drops a deleted droplet from the firewalls that named it.
  for (const fw of ctx.state.firewalls.values()) fw.dropletIds = fw.dropletIds.filter((id) => id !== droplet.id);
}

function createDroplet(ctx: Ctx, req: ApiRequest) {
  const { state, settings } = ctx;
  const body = objectBody(req);
  if (body.names !== undefined) throw unprocessable('The fake DigitalOcean API creates one droplet per request; send `name`, not `names`');
  const name = body.name;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw unprocessable('Name is invalid: use only letters, digits, dots and dashes');
  const region = body.region === undefined ? DEFAULT_REGION : body.region;
  if (typeof region !== 'string' || !findRegion(region)) throw unprocessable('You specified an invalid region for Droplet creation.');
  const size = typeof body.size === 'string' ? findSize(body.size) : undefined;
  if (!size) throw unprocessable('You specified an invalid size for Droplet creation.');
  const image = resolveImage(ctx, body.image);
  if (image.kind === 'snapshot' && !image.snapshot.regions.includes(region)) {
    throw unprocessable(`The image ${image.snapshot.id} is not available in region ${region}; transfer it there first.`);
  }
  const minDisk = image.kind === 'snapshot' ? image.snapshot.minDiskSize : image.distribution.minDiskSize;
  if (size.disk < minDisk) throw unprocessable(`The image requires a disk of at least ${minDisk} GB; size ${size.slug} has ${size.disk} GB.`);
  const sshKeys = body.ssh_keys ?? [];
  if (!Array.isArray(sshKeys)) throw unprocessable('ssh_keys must be an array of key ids or fingerprints');
  const keys = sshKeys.map((k: unknown) => {
    const key = typeof k === 'number' || typeof k === 'string' ? resolveKey(state, String(k)) : undefined;
    if (!key) throw unprocessable(`You specified an invalid SSH key id or fingerprint (${JSON.stringify(k)}) for Droplet creation.`);
    return key;
  });
  const tags = body.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string' && TAG_PATTERN.test(t))) {
    throw unprocessable('tags must be an array of names made of letters, digits, _, - and :');
  }
  const userData = body.user_data ?? '';
  if (typeof userData !== 'string' || userData.length > 64 * 1024) throw unprocessable('user_data must be a string of at most 64 KiB');
  if (state.droplets.size >= DROPLET_LIMIT) throw unprocessable('creating this/these droplet(s) will exceed your droplet limit');
  const failure = ctx.faults.takeCreateFailure();
  if (failure === 'rejected') throw unprocessable(`Sorry, ${size.slug} is not available in ${region} right now. Please try a different region or size.`);

  const id = state.nextDropletId();
  const host = state.nextHost(settings.ipBase);
  const droplet: Droplet = {
    id,
    name,
    status: 'new',
    sizeSlug: size.slug,
    region,
    image,
    tags: [...new Set(tags)],
    userData,
    sshKeyIds: keys.map((k) => k.id),
    ipv4: `${settings.ipBase}.${host}`,
    privateIpv4: `10.10.0.${host}`,
    ipv6: body.ipv6 === true ? `fd00::${host.toString(16)}` : null,
    monitoring: body.monitoring === true,
    createdAt: nowIso(),
  };
  for (const t of droplet.tags) state.tags.add(t);
  state.droplets.set(id, droplet);

  const action = ctx.life.startAction(droplet, 'create');
  const spec: MachineSpec = {
    id,
    name,
    ipv4: droplet.ipv4,
    userData,
    authorizedKeys: keys.map((k) => k.publicKey),
    image:
      image.kind === 'snapshot'
        ? { kind: 'snapshot', id: String(image.snapshot.id), archive: image.snapshot.archive ?? '' }
        : { kind: 'distribution', slug: image.distribution.slug },
  };
  const { machines } = ctx;
  ctx.life.run(
    action,
    async () => {
      if (failure === 'errored') throw new Error('injected fault: failDropletCreates(…, "errored")');
      if (!machines) return;
      if (spec.image.kind === 'snapshot' && !spec.image.archive) {
        throw new Error(`snapshot ${spec.image.id} has no archive for the machine backend; seed it with addSnapshot({ archive })`);
      }
      await ctx.life.onMachine(id, () => machines.create(spec));
    },
    {
      minMs: settings.dropletBootMs,
      onSuccess: () => (droplet.status = 'active'),
      // A failed create leaves a droplet that is off, which the owner must delete, as on the real API.
      onError: () => (droplet.status = 'off'),
    },
  );
  return {
    status: 202,
    body: { droplet: renderDroplet(droplet, state), links: { actions: [{ id: action.id, rel: 'create', href: `${ctx.baseUrl()}/v2/actions/${action.id}` }] } },
  };
}

function resolveImage(ctx: Ctx, image: unknown): Droplet['image'] {
  const raw = typeof image === 'number' ? String(image) : image;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) {
    const id = Number(raw);
    const snapshot = ctx.state.listedSnapshots().find((s) => s.id === id);
    if (snapshot) return { kind: 'snapshot', snapshot };
    const distribution = DISTRIBUTIONS.find((d) => d.id === id);
    if (distribution) return { kind: 'distribution', distribution };
  } else if (typeof raw === 'string') {
    const distribution = DISTRIBUTIONS.find((d) => d.slug === raw);
    if (distribution) return { kind: 'distribution', distribution };
  }
  throw unprocessable('You specified an invalid image for Droplet creation.');
}
