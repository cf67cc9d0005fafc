import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import type { VersionJson } from '../api/worlds-routes.js';
import { ApiError } from './api-client.js';

export interface Uploaded {
  version: VersionJson;
  /** Bytes sent (the file, or the folder's .tar.gz, as it went). */
  bytes: number;
}

/**
 * Streams a world to `POST /api/servers/:id/worlds/upload`: a `.tar.gz` or `.zip` file as it is (with
 * its length), or a folder tarred and gzipped on the fly (chunked; nothing written to disk here). The
 * controller checks everything.
 */
export async function uploadWorld(o: { baseUrl: string; token: string | undefined; server: string; source: string; onProgress?: (bytes: number) => void }): Promise<Uploaded> {
  const info = await stat(o.source).catch((err: NodeJS.ErrnoException) => {
    throw new ApiError(`Cannot read ${o.source}: ${err.message}`, null, false, { cause: err });
  });
  let body: Readable;
  let length: number | undefined;
  let type = 'application/gzip';
  if (info.isDirectory()) {
    // Portable: no owner names or times of this machine; the controller refuses links, so none are followed silently.
    body = tar.c({ cwd: o.source, gzip: true, portable: true }, ['.']) as unknown as Readable;
  } else if (/\.(tar\.gz|tgz|zip)$/i.test(o.source)) {
    body = createReadStream(o.source);
    length = info.size;
    if (/\.zip$/i.test(o.source)) type = 'application/zip';
  } else {
    throw new ApiError(`${o.source} is not a .tar.gz, .tgz, .zip or a folder; upload one of those`, null, false);
  }
  const path = `/api/servers/${encodeURIComponent(o.server)}/worlds/upload`;
  const url = new URL(path, o.baseUrl);
  let bytes = 0;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': type };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (length !== undefined) headers['content-length'] = String(length);
    const req = request(url, { method: 'POST', headers }, resolve);
    req.on('error', (err) => reject(new ApiError(`Could not upload to the OoD controller at ${url.origin}: ${err.message}. Is \`ood serve\` running?`, null, true, { cause: err })));
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      o.onProgress?.(bytes);
    });
    // The controller may answer (a refusal) before it read everything: its answer wins over a write error.
    pipeline(body, req).catch((err: Error) => req.destroy(err));
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let answer: { error?: string; uploaded?: VersionJson } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // Not JSON (a proxy's page, say): the status line says what happened.
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300 || !answer.uploaded) {
    const hint = status === 401 ? ' (set OOD_ADMIN_TOKEN, or run this where the controller keeps its data)' : '';
    throw new ApiError(`POST ${path} failed with ${status}: ${answer.error ?? res.statusMessage}${hint}`, status, status >= 500);
  }
  return { version: answer.uploaded, bytes };
}
