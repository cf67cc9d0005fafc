import type Router from '@koa/router';
import type Koa from 'koa';
import type { Controller, Request } from '../controller.js';
import { refuseBeforeReading, uploadWorld } from '../worlds/upload.js';
import { HttpError } from './http-error.js';
import { versionJson } from './worlds-routes.js';

/**
 * Uploads running at once: each holds a temp file up to `worlds.maxUpload` and a staging copy, so they
 * are capped in all, per requester and per address (each below the total: DESIGN.md invariant 10),
 * and one per server (two uploads would race for "the next start's world").
 */
const LIMITS = { total: 2, perActor: 1, perAddress: 1 };

/**
 * `POST /api/servers/:id/worlds/upload`: the raw body is a `.tar.gz` of a world (Content-Type
 * application/gzip) or a `.zip` (application/zip or application/x-zip-compressed). Admins only; only
 * while the server is archived. The API's auth ran before (a session needs its CSRF token and the
 * admin permission for a POST). Answers 201 with the new version.
 */
export function addUploadRoutes(api: Router, controller: Controller, o: { isAdmin: (ctx: Koa.Context) => boolean; who: (ctx: Koa.Context) => Request }): void {
  const running = { servers: new Set<string>(), actors: new Set<string>(), addresses: new Set<string>() };

  api.post('/servers/:id/worlds/upload', async (ctx) => {
    const id = ctx.params.id!;
    if (!o.isAdmin(ctx)) throw new HttpError(403, 'only an admin may upload a world');
    // A refusal may come before the whole body was read: the connection is closed after the answer
    // rather than read to its end, so a refused 2 GB upload costs no more than what already arrived.
    ctx.set('Connection', 'close');
    const who = o.who(ctx);
    const length = ctx.get('content-length');
    // WorldUploadErrors carry their status (400/409/413/415/422) and `expose`: the error middleware shows them.
    const kind = refuseBeforeReading(controller, id, { contentType: ctx.get('content-type'), contentLength: length === '' ? undefined : Number(length) });
    if (running.servers.has(id)) throw new HttpError(409, `a world is being uploaded to "${id}" already; wait for it to finish`);
    if (running.actors.has(who.actor) || running.addresses.has(who.source)) throw new HttpError(429, 'an upload of yours is running already; wait for it to finish');
    if (running.servers.size >= LIMITS.total) throw new HttpError(503, `${LIMITS.total} uploads are running; try again when one has finished`);
    running.servers.add(id);
    running.actors.add(who.actor);
    running.addresses.add(who.source);
    try {
      const uploaded = await uploadWorld(controller, id, ctx.req, who, kind);
      ctx.status = 201;
      ctx.body = { uploaded: versionJson(uploaded.version), folder: uploaded.folder, bytes: uploaded.bytes };
    } finally {
      running.servers.delete(id);
      running.actors.delete(who.actor);
      running.addresses.delete(who.source);
    }
  });
}

