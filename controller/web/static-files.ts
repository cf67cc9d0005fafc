import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Router from '@koa/router';
import { headSvg, PLAYER_NAME } from './heads.js';
import { HttpError } from '../api/http-error.js';

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/**
 * Where the page assets are: beside this file when run from source, and found by walking up from the
 * bundle (dist/chunks/…) when run built.
 */
function staticDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [join(dir, 'static'), join(dir, 'controller', 'web', 'static')]) {
      if (existsSync(join(candidate, 'app.js'))) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error(`OoD's page assets (controller/web/static) were not found above ${fileURLToPath(import.meta.url)}`);
}

/** The page's script, style and icon, read once into memory, with ETags; and players' heads. */
export function staticRoutes(router: Router): void {
  const dir = staticDir();
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  router.get('/static/:name', (ctx) => {
    const file = files.get(ctx.params.name!);
    if (!file) throw new HttpError(404, `no file /static/${ctx.params.name}`);
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', file.etag);
    if (ctx.get('if-none-match') === file.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = file.type;
    ctx.body = file.body;
  });
  router.get('/heads/:file', (ctx) => {
    const name = /^(.+)\.svg$/.exec(ctx.params.file!)?.[1];
    if (!name || !PLAYER_NAME.test(name)) throw new HttpError(404, 'a head is /heads/<Minecraft name>.svg');
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = 'image/svg+xml';
    ctx.body = headSvg(name);
  });
}
