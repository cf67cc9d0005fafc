/** GET /v2/account and GET /v2/sizes: fixed answers from the catalog. */
import { DROPLET_LIMIT, SIZES } from '../catalog.js';
import type { Ctx } from '../context.js';
import { paginate } from '../pagination.js';
import { renderSize } from '../render.js';
import type { Router } from '../router.js';

export function accountRoutes(r: Router, ctx: Ctx): void {
  r.add('GET', '/v2/account', () => ({
    status: 200,
    body: {
      account: {
        droplet_limit: DROPLET_LIMIT,
        floating_ip_limit: 3,
        email: 'ood-tests@example.com',
        name: 'OoD tests',
        uuid: 'b6fr89dbf6d9156cace5f3c78dc9851d957381ef',
        email_verified: true,
        status: 'active',
        status_message: '',
        team: { uuid: '5df3e3004a17e242b7c20ca6c9fc25b701a47ece', name: 'OoD tests' },
      },
    },
  }));

  r.add('GET', '/v2/sizes', (req) => {
    const page = paginate(SIZES, ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { sizes: page.items.map(renderSize), links: page.links, meta: page.meta } };
  });
}
