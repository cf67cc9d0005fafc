/**
 * /v2/domains/{domain}/records. Which domains exist is the test's choice (`domains` option); without it
 * every domain name is accepted, so a Pulumi program with any domain works against the fake.
 */
import { notFound, unprocessable } from '../api-error.js';
import type { Ctx } from '../context.js';
import { paginate } from '../pagination.js';
import { renderRecord } from '../render.js';
import { intParam, objectBody, type ApiRequest, type Router } from '../router.js';
import type { DomainRecord } from '../state.js';

const TYPES = new Set(['A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'SOA', 'SRV', 'TXT']);

export function domainRoutes(r: Router, ctx: Ctx): void {
  const { state } = ctx;
  const domainOf = (req: ApiRequest): string => {
    const domain = (req.params.domain ?? '').toLowerCase();
    if (state.domains !== null && !state.domains.has(domain)) throw notFound();
    return domain;
  };
  const find = (req: ApiRequest): DomainRecord => {
    const domain = domainOf(req);
    const id = intParam(req, 'record');
    const record = id === undefined ? undefined : state.records.get(id);
    if (!record || record.domain !== domain) throw notFound();
    return record;
  };

  r.add('GET', '/v2/domains/:domain/records', (req) => {
    const domain = domainOf(req);
    const name = req.query.get('name');
    const type = req.query.get('type');
    // `name` filters by the fully qualified name (`play.example.com`), as the real API does.
    const fqdn = (rec: DomainRecord): string => (rec.name === '@' ? domain : `${rec.name}.${domain}`);
    const all = [...state.records.values()].filter((rec) => rec.domain === domain && (name === null || fqdn(rec) === name) && (type === null || rec.type === type));
    const page = paginate(all, ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { domain_records: page.items.map(renderRecord), links: page.links, meta: page.meta } };
  });

  r.add('POST', '/v2/domains/:domain/records', (req) => {
    const domain = domainOf(req);
    const record: DomainRecord = { id: state.nextRecordId(), domain, ...parseRecord(objectBody(req), undefined) };
    state.records.set(record.id, record);
    return { status: 201, body: { domain_record: renderRecord(record) } };
  });

  r.add('GET', '/v2/domains/:domain/records/:record', (req) => ({ status: 200, body: { domain_record: renderRecord(find(req)) } }));

  for (const method of ['PUT', 'PATCH']) {
    r.add(method, '/v2/domains/:domain/records/:record', (req) => {
      const record = find(req);
      Object.assign(record, parseRecord(objectBody(req), record));
      return { status: 200, body: { domain_record: renderRecord(record) } };
    });
  }

  r.add('DELETE', '/v2/domains/:domain/records/:record', (req) => {
    state.records.delete(find(req).id);
    return { status: 204 };
  });
}

/** The record's fields from a body; `before` supplies what an update leaves out. */
function parseRecord(body: Record<string, unknown>, before: DomainRecord | undefined): Omit<DomainRecord, 'id' | 'domain'> {
  const type = body.type ?? before?.type;
  if (typeof type !== 'string' || !TYPES.has(type)) throw unprocessable(`type must be one of ${[...TYPES].join(', ')}`);
  const name = body.name ?? before?.name;
  const data = body.data ?? before?.data;
  if (typeof name !== 'string' || name === '') throw unprocessable('Name is required');
  if (typeof data !== 'string' || data === '') throw unprocessable('Data is required');
  if (type === 'A' && !/^(\d{1,3})(\.\d{1,3}){3}$/.test(data)) throw unprocessable(`Data needs to be an IPv4 address, got ${data}`);
  const ttl = body.ttl ?? before?.ttl ?? 1800;
  if (!Number.isInteger(ttl) || (ttl as number) < 30) throw unprocessable('TTL must be an integer of at least 30 seconds');
  const optionalInt = (key: 'priority' | 'port' | 'weight' | 'flags'): number | null => {
    const v = body[key] === undefined ? before?.[key] ?? null : body[key];
    if (v !== null && !Number.isInteger(v)) throw unprocessable(`${key} must be an integer`);
    return v as number | null;
  };
  const tag = body.tag === undefined ? before?.tag ?? null : body.tag;
  if (tag !== null && typeof tag !== 'string') throw unprocessable('tag must be a string');
  return { type, name, data, ttl: ttl as number, priority: optionalInt('priority'), port: optionalInt('port'), weight: optionalInt('weight'), flags: optionalInt('flags'), tag };
}
