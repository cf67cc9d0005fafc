import { PassThrough } from 'node:stream';
import type Koa from 'koa';

/**
 * Makes the response a server-sent event stream and returns what to write events into: the live pages
 * (live-events.ts) and the console (console-stream.ts) answer the same way. The socket's idle timeout
 * is off (a quiet stream is no dead client: heartbeats say so), Nagle is off (an event goes at once),
 * and neither a cache nor a proxy such as nginx may hold events back in its buffer. The browser is
 * asked to reconnect 2 s after a drop.
 */
export function openEventStream(ctx: Koa.Context): PassThrough {
  const stream = new PassThrough();
  const socket = ctx.req.socket;
  socket.setTimeout(0);
  socket.setNoDelay(true);
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache, no-transform');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.body = stream;
  stream.write('retry: 2000\n\n');
  return stream;
}
