import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from './api-client.js';

export interface Downloaded {
  /** The version the controller sent (the newest when none was named). */
  version: string;
  bytes: number;
}

/**
 * Streams `GET /api/servers/:id/worlds/:v/download` to `file`: the bytes go to `file.part` as they come
 * and are renamed to `file` only once the response ended whole, so a cut-off download never leaves a
 * file that looks finished. `onProgress` hears the byte count as it grows.
 */
export async function downloadWorld(o: { baseUrl: string; token: string | undefined; server: string; version: string; file: string; onProgress?: (bytes: number) => void }): Promise<Downloaded> {
  const path = `/api/servers/${encodeURIComponent(o.server)}/worlds/${encodeURIComponent(o.version)}/download`;
  const res = await get(new URL(path, o.baseUrl), o.token);
  if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
    const text = await bodyText(res);
    let message = res.statusMessage ?? '';
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      // Not JSON (a proxy's page, say): the status line says what happened.
    }
    const hint = res.statusCode === 401 ? ' (set OOD_ADMIN_TOKEN, or run this where the controller keeps its data)' : '';
    throw new ApiError(`GET ${path} failed with ${res.statusCode}: ${message}${hint}`, res.statusCode ?? null, (res.statusCode ?? 0) >= 500);
  }
  const part = `${o.file}.part`;
  let bytes = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      o.onProgress?.(bytes);
      done(null, chunk);
    },
  });
  try {
    // A response cut off mid-way (the controller stopped, a damaged archive) is an error here: pipeline
    // rejects on the socket's premature close, so the .part file is removed, never renamed.
    await pipeline(res, counting, createWriteStream(part, { mode: 0o600 }));
    if (!res.complete) throw new Error('the response ended before the whole world was sent');
    await rename(part, o.file);
  } catch (err) {
    await rm(part, { force: true });
    throw new ApiError(`Downloading ${o.server}'s world to ${o.file} failed after ${bytes} bytes: ${(err as Error).message}`, null, true, { cause: err });
  }
  return { version: String(res.headers['x-ood-version'] ?? o.version), bytes };
}

function get(url: URL, token: string | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 60_000 }, resolve);
    // An idle limit, not a total one: a big world takes as long as it takes while bytes flow.
    req.on('timeout', () => req.destroy(new Error(`no data from ${url.origin} for 60 s`)));
    req.on('error', (err) =>
      reject(new ApiError(`Could not reach the OoD controller at ${url.origin}: ${err.message}. Is \`ood serve\` running?`, null, true, { cause: err })),
    );
    req.end();
  });
}

async function bodyText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
