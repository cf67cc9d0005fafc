import type Koa from 'koa';
import ratelimit from 'koa-ratelimit';

/**
 * A Map that forgets its oldest keys past `max`: koa-ratelimit's memory driver keeps one entry per
 * address or person and never deletes, so a flood of addresses would otherwise grow it without bound.
 */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.max) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

/** At most `max` requests per `durationMs` per key; past it, a 429 that says when to try again. */
export function rateLimit(o: { name: string; max: number; durationMs: number; key: (ctx: Koa.Context) => string; message: string }): Koa.Middleware {
  return ratelimit({
    driver: 'memory',
    db: new BoundedMap(10_000),
    namespace: o.name,
    duration: o.durationMs,
    max: o.max,
    id: o.key,
    throw: true,
    errorMessage: o.message,
  }) as Koa.Middleware;
}
