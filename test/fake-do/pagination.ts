/**
 * DigitalOcean's page links: `page` from 1, `per_page` 20 by default and at most 200, `links.pages`
 * with absolute `first`/`prev`/`next`/`last` URLs (only those that apply), `meta.total`.
 */
import { badRequest } from './api-error.js';

export interface Page<T> {
  items: T[];
  links: { pages: Record<string, string> };
  meta: { total: number };
}

export function paginate<T>(all: readonly T[], baseUrl: string, path: string, query: URLSearchParams): Page<T> {
  const perPage = Math.min(positiveInt(query.get('per_page'), 20, 'per_page'), 200);
  const page = positiveInt(query.get('page'), 1, 'page');
  const last = Math.max(1, Math.ceil(all.length / perPage));
  const link = (n: number): string => {
    const q = new URLSearchParams(query);
    q.set('page', String(n));
    q.set('per_page', String(perPage));
    return `${baseUrl}${path}?${q.toString()}`;
  };
  const pages: Record<string, string> = {};
  if (page > 1) {
    pages.first = link(1);
    pages.prev = link(Math.min(page - 1, last));
  }
  if (page < last) {
    pages.next = link(page + 1);
    pages.last = link(last);
  }
  return { items: all.slice((page - 1) * perPage, page * perPage), links: { pages }, meta: { total: all.length } };
}

function positiveInt(raw: string | null, fallback: number, name: string): number {
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}
