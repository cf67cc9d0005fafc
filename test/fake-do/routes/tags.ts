/** /v2/tags/{tag}/resources: tag and untag droplets. Tags also come into being when a droplet is created with them. */
import { notFound, unprocessable } from '../api-error.js';
import type { Ctx } from '../context.js';
import { objectBody, type ApiRequest, type Router } from '../router.js';
import type { Droplet } from '../state.js';

export const TAG_PATTERN = /^[a-zA-Z0-9_\-:]{1,255}$/;

export function tagRoutes(r: Router, ctx: Ctx): void {
  const dropletsOf = (req: ApiRequest): Droplet[] => {
    const body = objectBody(req);
    if (!Array.isArray(body.resources)) throw unprocessable('resources must be an array of {resource_id, resource_type}');
    return body.resources.map((res: unknown) => {
      const { resource_id: id, resource_type: type } = (res ?? {}) as Record<string, unknown>;
      if (type !== 'droplet') throw unprocessable(`The fake DigitalOcean API tags droplets only, not ${JSON.stringify(type)}`);
      const droplet = ctx.state.droplets.get(Number(id));
      if (!droplet) throw unprocessable(`Droplet ${String(id)} does not exist`);
      return droplet;
    });
  };

  r.add('POST', '/v2/tags/:tag/resources', (req) => {
    const tag = req.params.tag ?? '';
    if (!TAG_PATTERN.test(tag)) throw unprocessable('The tag name is invalid');
    ctx.state.tags.add(tag);
    for (const d of dropletsOf(req)) if (!d.tags.includes(tag)) d.tags.push(tag);
    return { status: 204 };
  });

  r.add('DELETE', '/v2/tags/:tag/resources', (req) => {
    const tag = req.params.tag ?? '';
    if (!ctx.state.tags.has(tag)) throw notFound();
    for (const d of dropletsOf(req)) d.tags = d.tags.filter((t) => t !== tag);
    return { status: 204 };
  });
}
