import type Router from '@koa/router';
import type Koa from 'koa';
import type { Controller } from '../controller.js';
import { newestDownloadable } from '../worlds/copy-versions.js';
import { findVersion, type WorldVersion } from '../worlds/versions.js';
import { WorldDownloadError, worldTarGz } from '../worlds/download.js';
import { HttpError } from './http-error.js';

/**
 * Why a DigitalOcean snapshot is not sent, and what to download instead: the newest copy of the world
 * on this machine (copies off the cloud, made during play and at each stop), or that none exists yet.
 * DigitalOcean gives no way to read a snapshot's disk but to boot a droplet from it.
 */
export function snapshotNotDownloadable(server: string, snapshot: Pick<WorldVersion, 'id'>, versions: readonly WorldVersion[]): string {
  const copy = versions.find((v) => v.where === 'local copy');
  const why = `Version ${snapshot.id} of "${server}" is a DigitalOcean snapshot, which cannot be downloaded (DigitalOcean only boots droplets from it)`;
  if (!copy) return `${why}, and no copy of ${server}'s world is on this machine yet: one is made during play and at each stop while backups are enabled`;
  return `${why}; the newest copy of ${server}'s world on this machine is ${copy.id}, made ${new Date(copy.time).toISOString()}: get it with \`ood download ${server} ${copy.id} -o FILE\``;
}

/**
 * Downloads running at once: a download reads a whole world and keeps a gzip busy, so they are capped
 * in all and per requester (a person or the admin token) and per address, each below the total, so one
 * client can never take every place (DESIGN.md, invariant 10).
 */
const LIMITS = { total: 4, perActor: 2, perAddress: 2 };

/**
 * A download whose socket moved no byte for this long is cut off: a client that stops reading would
 * otherwise hold its place under the caps, and the archive open, for as long as it keeps the connection.
 */
export const DOWNLOAD_STALL_MS = 60_000;

/** A name for Content-Disposition that no browser or shell reads as a path or a quote. */
export const downloadFilename = (server: string, version: string) => `${server}-${version}.tar.gz`.replace(/[^\w.-]/g, '_');

/** `GET /api/servers/:id/worlds/:v/download` (`v`: a version id like `ood-1733480000`, or `newest`). */
export function addDownloadRoutes(api: Router, controller: Controller, isAdmin: (ctx: Koa.Context) => boolean): void {
  const running = { total: 0, byActor: new Map<string, number>(), byAddress: new Map<string, number>() };
  const bump = (map: Map<string, number>, key: string, by: number) => {
    const next = (map.get(key) ?? 0) + by;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  };

  api.get('/servers/:id/worlds/:v/download', async (ctx) => {
    const id = ctx.params.id!;
    if (!isAdmin(ctx)) throw new HttpError(403, 'only an admin may download a world; ask an admin of this OoD for a copy or for "admin"');
    // Only verified, listed versions: a local archive or a copy being written is a `.partial` temp file
    // with no version id until it has been read back and renamed (archive.ts), so it can never be asked for here.
    const versions = await controller.worlds(id);
    const wanted = ctx.params.v!;
    // `newest` is the newest world this machine holds a file of: on DigitalOcean, the newest copy.
    const version = wanted === 'newest' ? (newestDownloadable(versions) ?? versions[0]) : findVersion(versions, wanted);
    if (!version) {
      if (controller.view(id).state.phase === 'snapshotting') {
        throw new HttpError(409, `server "${id}" is writing a new version now; it can be downloaded once it is verified and listed (ood worlds ${id})`);
      }
      const known = versions.map((v) => v.id);
      throw new HttpError(404, known.length === 0 ? `server "${id}" has no saved world version yet` : `server "${id}" has no version "${wanted}"; it has ${known.join(', ')}`);
    }
    if (version.file === undefined) throw new WorldDownloadError(422, snapshotNotDownloadable(id, version, versions));

    const actor = String(ctx.state.actor);
    const address = ctx.ip || 'unknown';
    if ((running.byActor.get(actor) ?? 0) >= LIMITS.perActor || (running.byAddress.get(address) ?? 0) >= LIMITS.perAddress) {
      throw new HttpError(429, `${LIMITS.perActor} downloads are already running for you; wait for one to finish`);
    }
    if (running.total >= LIMITS.total) throw new HttpError(503, `${LIMITS.total} downloads are running; try again when one has finished`);

    // The place is taken before the first await: worldTarGz reads the whole archive once to find the
    // world folder, and requests checked meanwhile would all pass the caps above.
    running.total++;
    bump(running.byActor, actor, 1);
    bump(running.byAddress, address, 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      running.total--;
      bump(running.byActor, actor, -1);
      bump(running.byAddress, address, -1);
    };
    let world: Awaited<ReturnType<typeof worldTarGz>>;
    try {
      world = await worldTarGz(version.file);
    } catch (err) {
      release();
      // Pruned between the listing and the open: as if it had not been listed.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, `version ${version.id} of "${id}" was just pruned`);
      throw err;
    }
    world.stream.once('close', release);
    // A stalled client: no byte has left for DOWNLOAD_STALL_MS (backpressure holds every chunk), so the
    // stream is destroyed, which closes the response and releases its place (within 1.1 × the limit).
    // A socket.setTimeout was tried first and never fired for such a client in the test.
    // Progress is read off the socket: a 'data' listener on the stream would start it flowing before
    // Koa pipes it to the response, and lose those bytes.
    const socket = ctx.req.socket;
    let moved = Date.now();
    let written = socket.bytesWritten;
    const watch = setInterval(() => {
      if (socket.bytesWritten !== written) {
        written = socket.bytesWritten;
        moved = Date.now();
      } else if (Date.now() - moved > DOWNLOAD_STALL_MS) world.stream.destroy(new Error(`download stalled for ${DOWNLOAD_STALL_MS} ms`));
    }, DOWNLOAD_STALL_MS / 10);
    watch.unref();
    world.stream.once('close', () => clearInterval(watch));
    // Re-packed while sent: the length is not known ahead, so the response is chunked (and not resumable with Range).
    ctx.set('Content-Disposition', `attachment; filename="${downloadFilename(id, version.id)}"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-OoD-Version', version.id);
    ctx.type = 'application/gzip';
    ctx.body = world.stream;
  });
}
