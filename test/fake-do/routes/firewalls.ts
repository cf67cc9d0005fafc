/** /v2/firewalls: create, read, replace (PUT), delete, and add/remove droplets. Status is always `succeeded`. */
import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../api-error.js';
import { nowIso, type Ctx } from '../context.js';
import { paginate } from '../pagination.js';
import { renderFirewall } from '../render.js';
import { objectBody, type ApiRequest, type Router } from '../router.js';
import type { Firewall, FirewallRule } from '../state.js';

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9.-]+$/;

export function firewallRoutes(r: Router, ctx: Ctx): void {
  const { state } = ctx;
  const find = (req: ApiRequest): Firewall => {
    const fw = state.firewalls.get(req.params.id ?? '');
    if (!fw) throw notFound();
    return fw;
  };

  r.add('GET', '/v2/firewalls', (req) => {
    const page = paginate([...state.firewalls.values()], ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { firewalls: page.items.map(renderFirewall), links: page.links, meta: page.meta } };
  });

  r.add('POST', '/v2/firewalls', (req) => {
    const fw: Firewall = { id: randomUUID(), createdAt: nowIso(), ...parseFirewall(objectBody(req)) };
    state.firewalls.set(fw.id, fw);
    return { status: 202, body: { firewall: renderFirewall(fw) } };
  });

  r.add('GET', '/v2/firewalls/:id', (req) => ({ status: 200, body: { firewall: renderFirewall(find(req)) } }));

  r.add('PUT', '/v2/firewalls/:id', (req) => {
    const fw = find(req);
    // PUT replaces the whole firewall: what the body leaves out is gone, as on the real API.
    Object.assign(fw, parseFirewall(objectBody(req)));
    return { status: 200, body: { firewall: renderFirewall(fw) } };
  });

  r.add('DELETE', '/v2/firewalls/:id', (req) => {
    state.firewalls.delete(find(req).id);
    return { status: 204 };
  });

  r.add('POST', '/v2/firewalls/:id/droplets', (req) => {
    const fw = find(req);
    fw.dropletIds = [...new Set([...fw.dropletIds, ...dropletIds(objectBody(req).droplet_ids)])];
    return { status: 204 };
  });

  r.add('DELETE', '/v2/firewalls/:id/droplets', (req) => {
    const fw = find(req);
    const gone = new Set(dropletIds(objectBody(req).droplet_ids));
    fw.dropletIds = fw.dropletIds.filter((id) => !gone.has(id));
    return { status: 204 };
  });
}

function parseFirewall(body: Record<string, unknown>): Omit<Firewall, 'id' | 'createdAt'> {
  if (typeof body.name !== 'string' || !NAME_PATTERN.test(body.name)) throw badRequest('name must be letters, digits, dots and dashes, starting with a letter or digit');
  const inbound = rules(body.inbound_rules, 'inbound_rules', 'sources');
  const outbound = rules(body.outbound_rules, 'outbound_rules', 'destinations');
  if (inbound.length === 0 && outbound.length === 0) throw badRequest('a firewall needs at least one inbound or outbound rule');
  return {
    name: body.name,
    dropletIds: dropletIds(body.droplet_ids ?? []),
    tags: strings(body.tags ?? [], 'tags'),
    inboundRules: inbound,
    outboundRules: outbound,
  };
}

function rules(raw: unknown, field: string, key: 'sources' | 'destinations'): FirewallRule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw badRequest(`${field} must be an array`);
  return raw.map((rule: unknown, i) => {
    const { protocol, ports, [key]: targets } = (rule ?? {}) as Record<string, unknown>;
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'icmp') throw badRequest(`${field}[${i}].protocol must be tcp, udp or icmp`);
    if (protocol !== 'icmp' && (typeof ports !== 'string' || !/^(\d+(-\d+)?|all)$/.test(ports))) {
      throw badRequest(`${field}[${i}].ports must be a port, a range like 8000-9000, or "all" for ${protocol}`);
    }
    if (typeof targets !== 'object' || targets === null) throw badRequest(`${field}[${i}].${key} is required`);
    const t = targets as Record<string, unknown>;
    const parsed: FirewallRule['targets'] = {};
    if (t.addresses !== undefined) parsed.addresses = strings(t.addresses, `${field}[${i}].${key}.addresses`);
    if (t.droplet_ids !== undefined) parsed.droplet_ids = dropletIds(t.droplet_ids);
    if (t.load_balancer_uids !== undefined) parsed.load_balancer_uids = strings(t.load_balancer_uids, `${field}[${i}].${key}.load_balancer_uids`);
    if (t.kubernetes_ids !== undefined) parsed.kubernetes_ids = strings(t.kubernetes_ids, `${field}[${i}].${key}.kubernetes_ids`);
    if (t.tags !== undefined) parsed.tags = strings(t.tags, `${field}[${i}].${key}.tags`);
    return { protocol, ports: typeof ports === 'string' ? ports : '0', targets: parsed };
  });
}

function strings(raw: unknown, field: string): string[] {
  if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) throw badRequest(`${field} must be an array of strings`);
  return raw;
}

function dropletIds(raw: unknown): number[] {
  if (!Array.isArray(raw) || !raw.every((x) => Number.isInteger(x))) throw badRequest('droplet_ids must be an array of integers');
  return raw as number[];
}
