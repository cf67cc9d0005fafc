import type Koa from 'koa';
import ratelimit from 'koa-ratelimit';
import { addressKey } from '../net/address-key.js';

/** What web limits count a client by: its address, an IPv6 one by its /64 (one home or host holds a whole /64). */
export const clientAddressKey = (ctx: Koa.Context): string => addressKey(ctx.ip || 'unknown');

/** An entry of koa-ratelimit's memory driver: `reset` is when its window ends, in seconds. */
type Entry = { reset: number };

/**
 * koa-ratelimit's memory map, held to `max` keys: it keeps one entry per key and never deletes, so a
 * flood of new keys would grow it without bound. Making room removes only keys whose window has
 * passed; a key still inside its window is never forgotten, so rotating through new addresses cannot
 * reset a limited one. When every key is still counting, a new key is refused until one's window ends.
 */
class LimitMap extends Map<string, Entry> {
  constructor(private readonly max: number) {
    super();
  }

  /** Whether `key` is counted already or can be; removes every passed window when full. */
  roomFor(key: string, nowMs: number): boolean {
    if (this.has(key) || this.size < this.max) return true;
    for (const [k, entry] of this) if (entry.reset * 1000 <= nowMs) this.delete(k);
    return this.size < this.max;
  }
}

/**
 * At most `max` requests per `durationMs` per key; past it, a 429 that says when to try again. At most
 * `maxKeys` keys are counted at once; while that many are inside their window, a new key gets a 429 too.
 */
export function rateLimit(o: { name: string; max: number; durationMs: number; maxKeys?: number; key: (ctx: Koa.Context) => string; message: string }): Koa.Middleware {
  const db = new LimitMap(o.maxKeys ?? 10_000);
  const limit = ratelimit({
    driver: 'memory',
    db,
    namespace: o.name,
    duration: o.durationMs,
    max: o.max,
    id: o.key,
    throw: true,
    errorMessage: o.message,
  }) as Koa.Middleware;
  return (ctx, next) => {
    if (!db.roomFor(`${o.name}:${o.key(ctx)}`, Date.now())) {
      ctx.throw(429, 'Too many addresses are being turned away at the moment; wait a minute and try again.', { headers: { 'Retry-After': '60' } });
    }
    return limit(ctx, next);
  };
}
