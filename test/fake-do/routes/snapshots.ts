/**
 * /v2/snapshots and /v2/images. Droplet snapshots are images too: `GET /v2/images/{id}` answers for a
 * snapshot's id, and `GET /v2/images?private=true` lists them. A snapshot shows up anywhere only once
 * its listing delay has passed.
 */
import { rm } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { badRequest, notFound } from '../api-error.js';
import { DISTRIBUTIONS } from '../catalog.js';
import type { Ctx } from '../context.js';
import { paginate } from '../pagination.js';
import { renderDistribution, renderSnapshot, renderSnapshotImage } from '../render.js';
import type { ApiRequest, Router } from '../router.js';
import type { Snapshot } from '../state.js';

export function snapshotRoutes(r: Router, ctx: Ctx): void {
  const { state } = ctx;
  const findSnapshot = (raw: string): Snapshot => {
    // Volume snapshots have UUIDs; the fake keeps none, and the API says 400 for a non-droplet id.
    if (!/^\d+$/.test(raw)) throw badRequest('the resource is not a snapshot');
    const snapshot = state.listedSnapshots().find((s) => s.id === Number(raw));
    if (!snapshot) throw notFound();
    return snapshot;
  };
  const deleteSnapshot = async (snapshot: Snapshot): Promise<void> => {
    state.snapshots.delete(snapshot.id);
    // Only archives the fake wrote itself; a seeded archive belongs to the test.
    const dir = ctx.settings.dataDir;
    if (snapshot.archive && dir) {
      const rel = relative(dir, snapshot.archive);
      if (!rel.startsWith('..') && !isAbsolute(rel)) await rm(snapshot.archive, { force: true });
    }
  };

  r.add('GET', '/v2/snapshots', (req) => {
    const type = req.query.get('resource_type');
    const all = type === 'volume' ? [] : state.listedSnapshots();
    const page = paginate(all, ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { snapshots: page.items.map(renderSnapshot), links: page.links, meta: page.meta } };
  });

  r.add('GET', '/v2/snapshots/:id', (req) => ({ status: 200, body: { snapshot: renderSnapshot(findSnapshot(req.params.id ?? '')) } }));

  r.add('DELETE', '/v2/snapshots/:id', async (req) => {
    await deleteSnapshot(findSnapshot(req.params.id ?? ''));
    return { status: 204 };
  });

  r.add('GET', '/v2/images', (req) => {
    const all = listImages(ctx, req);
    const page = paginate(all, ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { images: page.items, links: page.links, meta: page.meta } };
  });

  r.add('GET', '/v2/images/:id', (req) => {
    const raw = req.params.id ?? '';
    const distribution = DISTRIBUTIONS.find((d) => d.slug === raw || String(d.id) === raw);
    if (distribution) return { status: 200, body: { image: renderDistribution(distribution) } };
    const snapshot = /^\d+$/.test(raw) ? state.listedSnapshots().find((s) => s.id === Number(raw)) : undefined;
    if (!snapshot) throw notFound();
    return { status: 200, body: { image: renderSnapshotImage(snapshot) } };
  });

  r.add('DELETE', '/v2/images/:id', async (req) => {
    const raw = req.params.id ?? '';
    const snapshot = /^\d+$/.test(raw) ? state.listedSnapshots().find((s) => s.id === Number(raw)) : undefined;
    if (!snapshot) throw notFound();
    await deleteSnapshot(snapshot);
    return { status: 204 };
  });
}

function listImages(ctx: Ctx, req: ApiRequest): Record<string, unknown>[] {
  const type = req.query.get('type');
  const privateOnly = req.query.get('private') === 'true';
  const tag = req.query.get('tag_name');
  const snapshots = ctx.state.listedSnapshots().filter((s) => tag === null || s.tags.includes(tag));
  if (privateOnly || tag !== null) return snapshots.map(renderSnapshotImage);
  if (type === 'distribution') return DISTRIBUTIONS.map(renderDistribution);
  if (type === 'application') return [];
  return [...DISTRIBUTIONS.map(renderDistribution), ...snapshots.map(renderSnapshotImage)];
}
