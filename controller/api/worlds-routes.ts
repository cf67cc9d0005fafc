import type Router from '@koa/router';
import type Koa from 'koa';
import type { Controller, Request } from '../controller.js';
import type { WorldVersion } from '../worlds/versions.js';
import { UnknownWorldVersionError, WorldRestoreRefusedError } from '../worlds/world-errors.js';
import { HttpError } from './http-error.js';

/** A version as clients see it: times as ISO strings, and no paths of this machine. */
export function versionJson(v: WorldVersion) {
  return {
    id: v.id,
    name: v.name,
    time: new Date(v.time).toISOString(),
    bytes: v.bytes,
    where: v.where,
    session: v.session && { started: new Date(v.session.started).toISOString(), by: v.session.by, players: v.session.players, duration: v.session.duration },
    next: v.next,
    chosen: v.chosen,
    pinned: v.pinned,
  };
}
export type VersionJson = ReturnType<typeof versionJson>;

/** A version id as versions.ts makes them (`ood-<ts>`, `do-<id>`): anything else is no version. */
const VERSION_ID = /^[\w.-]{1,100}$/;

/**
 * World versions (issue 19): the list, and an admin's restore. The API's auth ran before (a session
 * needs its CSRF token and the admin permission for a POST); these add the admin check for the bearer-less
 * path's sake and map the restore's refusals to 409 and 404.
 */
export function worldsRoutes(api: Router, controller: Controller, o: { isAdmin: (ctx: Koa.Context) => boolean; who: (ctx: Koa.Context) => Request }): void {
  api.get('/servers/:id/worlds', async (ctx) => {
    ctx.body = { versions: (await controller.worlds(ctx.params.id!)).map(versionJson) };
  });
  api.post('/servers/:id/worlds/:version/restore', async (ctx) => {
    if (!o.isAdmin(ctx)) throw new HttpError(403, 'only an admin may restore a world version');
    const version = ctx.params.version!;
    if (!VERSION_ID.test(version)) throw new HttpError(400, `"${version.slice(0, 100)}" is not a world version id; \`ood worlds ${ctx.params.id}\` lists them`);
    try {
      ctx.body = { restored: versionJson(await controller.restoreWorld(ctx.params.id!, version, o.who(ctx))) };
    } catch (err) {
      if (err instanceof WorldRestoreRefusedError) throw new HttpError(409, err.message);
      if (err instanceof UnknownWorldVersionError) throw new HttpError(404, err.message);
      throw err;
    }
  });
}
