/**
 * Droplet actions: shutdown (graceful), power_off (hard), power_on, snapshot, rename; and reading actions back.
 * Like the real API, a droplet with an action in progress refuses another one with 422 "Droplet already
 * has a pending event." — except that `power_off` overrides a pending `shutdown` (DigitalOcean's own
 * advice is to power off when a shutdown does not finish), which then ends `errored`.
 */
import { join } from 'node:path';
import { notFound, unprocessable } from '../api-error.js';
import { findSize } from '../catalog.js';
import { nowIso, type Ctx } from '../context.js';
import { paginate } from '../pagination.js';
import { renderAction } from '../render.js';
import { intParam, objectBody, type Router } from '../router.js';
import type { Action, Droplet } from '../state.js';
import { findDroplet } from './droplets.js';

const KNOWN_TYPES = new Set(['enable_backups', 'disable_backups', 'reboot', 'power_cycle', 'shutdown', 'power_off', 'power_on', 'restore', 'password_reset', 'resize', 'rebuild', 'rename', 'change_kernel', 'enable_ipv6', 'snapshot']);

/** Size reported for a snapshot when no machine backend wrote an archive. */
const IN_MEMORY_SNAPSHOT_BYTES = 2.36 * 1024 ** 3;

export function actionRoutes(r: Router, ctx: Ctx): void {
  const { state } = ctx;

  r.add('POST', '/v2/droplets/:id/actions', (req) => {
    const droplet = findDroplet(ctx, req);
    const body = objectBody(req);
    const type = body.type;
    if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) throw unprocessable(`${JSON.stringify(type)} is not a valid action type`);
    const pending = state.dropletActions(droplet.id).filter((a) => a.status === 'in-progress');
    const overridable = type === 'power_off' ? pending.filter((a) => a.type === 'shutdown') : [];
    if (pending.length > overridable.length) throw unprocessable('Droplet already has a pending event.');
    let action: Action;
    switch (type) {
      case 'shutdown':
        action = shutdown(ctx, droplet);
        break;
      case 'power_off':
        for (const a of overridable) ctx.life.finish(a, 'errored', 'overridden by power_off');
        action = power(ctx, droplet, 'power_off');
        break;
      case 'power_on':
        action = power(ctx, droplet, 'power_on');
        break;
      case 'snapshot':
        action = snapshot(ctx, droplet, body.name);
        break;
      case 'rename':
        action = rename(ctx, droplet, body.name);
        break;
      default:
        throw unprocessable(`The fake DigitalOcean API does not implement the ${type} action`);
    }
    return { status: 201, body: { action: renderAction(action) } };
  });

  r.add('GET', '/v2/droplets/:id/actions', (req) => {
    const droplet = findDroplet(ctx, req);
    // Newest first, as the real API lists them.
    const all = state.dropletActions(droplet.id).sort((a, b) => b.id - a.id);
    const page = paginate(all, ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { actions: page.items.map(renderAction), links: page.links, meta: page.meta } };
  });

  r.add('GET', '/v2/droplets/:id/actions/:action', (req) => {
    const droplet = findDroplet(ctx, req);
    const id = intParam(req, 'action');
    const action = id === undefined ? undefined : state.actions.get(id);
    if (!action || action.resourceId !== droplet.id) throw notFound();
    return { status: 200, body: { action: renderAction(action) } };
  });

  r.add('GET', '/v2/actions/:action', (req) => {
    const id = intParam(req, 'action');
    const action = id === undefined ? undefined : state.actions.get(id);
    if (!action) throw notFound();
    return { status: 200, body: { action: renderAction(action) } };
  });
}

function shutdown(ctx: Ctx, droplet: Droplet): Action {
  const action = ctx.life.startAction(droplet, 'shutdown');
  // Stays in-progress: no task ever ends it (a `power_off` will).
  if (ctx.faults.shutdownNeverFinishes && droplet.status === 'active') return action;
  const { machines } = ctx;
  if (ctx.faults.shutdownIgnored || droplet.status === 'off' || !machines) {
    const turnsOff = !ctx.faults.shutdownIgnored;
    ctx.life.run(action, () => Promise.resolve(), { onSuccess: () => turnsOff && (droplet.status = 'off') });
    return action;
  }
  ctx.life.run(action, () => ctx.life.onMachine(droplet.id, () => machines.powerOff(droplet.id, true)), { onSuccess: () => (droplet.status = 'off') });
  return action;
}

function power(ctx: Ctx, droplet: Droplet, type: 'power_off' | 'power_on'): Action {
  const action = ctx.life.startAction(droplet, type);
  const target = type === 'power_off' ? 'off' : 'active';
  const { machines } = ctx;
  const work = async (): Promise<void> => {
    // Already there: the action completes without touching the machine.
    if (droplet.status === target || !machines) return;
    await ctx.life.onMachine(droplet.id, () => (type === 'power_off' ? machines.powerOff(droplet.id, false) : machines.powerOn(droplet.id)));
  };
  ctx.life.run(action, work, { onSuccess: () => (droplet.status = target) });
  return action;
}

/** What the Terraform provider sends when a droplet's name changes (OoD's program never should). */
function rename(ctx: Ctx, droplet: Droplet, name: unknown): Action {
  if (typeof name !== 'string' || !/^[a-zA-Z0-9]?[a-z0-9A-Z.-]*[a-z0-9A-Z]$/.test(name)) throw unprocessable('Name is invalid: use only letters, digits, dots and dashes');
  const action = ctx.life.startAction(droplet, 'rename');
  ctx.life.run(action, () => Promise.resolve(), { onSuccess: () => (droplet.name = name) });
  return action;
}

function snapshot(ctx: Ctx, droplet: Droplet, name: unknown): Action {
  if (typeof name !== 'string' || name.trim() === '') throw unprocessable('name is required to take a snapshot');
  if (droplet.status === 'new') throw unprocessable('Droplet already has a pending event.');
  const action = ctx.life.startAction(droplet, 'snapshot');
  const { machines, settings, state } = ctx;
  const id = state.nextImageId();
  const createdAt = nowIso();
  let archive: string | undefined;
  let bytes = IN_MEMORY_SNAPSHOT_BYTES;
  const work = async (): Promise<void> => {
    if (ctx.faults.snapshotActions === 'errored') throw new Error('injected fault: snapshotActions = "errored"');
    if (!machines) return;
    if (!settings.dataDir) throw new Error('the fake has a machine backend but no data directory for snapshot archives');
    archive = join(settings.dataDir, `snapshot-${id}.tar`);
    const written = archive;
    bytes = (await ctx.life.onMachine(droplet.id, () => machines.snapshot(droplet.id, written))).bytes;
  };
  ctx.life.run(action, work, {
    onSuccess: () => {
      state.snapshots.set(id, {
        id,
        name,
        createdAt,
        regions: [droplet.region],
        resourceId: droplet.id,
        // A snapshot needs a disk at least as large as the droplet's it came from.
        minDiskSize: findSize(droplet.sizeSlug)?.disk ?? 25,
        sizeGigabytes: Math.max(0.01, Math.ceil((bytes / 1024 ** 3) * 100) / 100),
        tags: [],
        ...(archive === undefined ? {} : { archive }),
        listedAt: Date.now() + settings.snapshotListingDelayMs,
      });
    },
  });
  return action;
}
