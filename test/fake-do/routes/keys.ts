/** /v2/account/keys: SSH keys, addressed by id or by fingerprint (MD5 of the key blob, as DigitalOcean shows it). */
import { createHash } from 'node:crypto';
import { notFound, unprocessable } from '../api-error.js';
import type { Ctx } from '../context.js';
import { paginate } from '../pagination.js';
import { renderKey } from '../render.js';
import { objectBody, type ApiRequest, type Router } from '../router.js';
import type { FakeDoState, SshKey } from '../state.js';

/** `aa:bb:…`: the MD5 of the base64-decoded key blob, the way DigitalOcean (and `ssh-keygen -E md5 -l`) prints it. */
export function md5Fingerprint(publicKey: string): string | undefined {
  const [type, blob] = publicKey.trim().split(/\s+/);
  if (!type || !blob || !/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-\S+)$/.test(type)) return undefined;
  const bytes = Buffer.from(blob, 'base64');
  // The blob starts with the key type as an SSH string; a mismatch means it is not a key.
  if (bytes.length < 4 || bytes.subarray(4, 4 + bytes.readUInt32BE(0)).toString() !== type) return undefined;
  return createHash('md5').update(bytes).digest('hex').replace(/(..)(?!$)/g, '$1:');
}

export function resolveKey(state: FakeDoState, idOrFingerprint: string): SshKey | undefined {
  if (/^\d+$/.test(idOrFingerprint)) return state.keys.get(Number(idOrFingerprint));
  return [...state.keys.values()].find((k) => k.fingerprint === idOrFingerprint);
}

export function keyRoutes(r: Router, ctx: Ctx): void {
  const { state } = ctx;
  const find = (req: ApiRequest): SshKey => {
    const key = resolveKey(state, req.params.key ?? '');
    if (!key) throw notFound();
    return key;
  };

  r.add('GET', '/v2/account/keys', (req) => {
    const page = paginate([...state.keys.values()], ctx.baseUrl(), req.path, req.query);
    return { status: 200, body: { ssh_keys: page.items.map(renderKey), links: page.links, meta: page.meta } };
  });

  r.add('POST', '/v2/account/keys', (req) => {
    const body = objectBody(req);
    if (typeof body.name !== 'string' || body.name === '') throw unprocessable('name is required');
    const publicKey = typeof body.public_key === 'string' ? body.public_key.trim() : '';
    const fingerprint = md5Fingerprint(publicKey);
    if (!fingerprint) throw unprocessable('Key invalid, key should be of the format `type key [comment]`');
    if ([...state.keys.values()].some((k) => k.fingerprint === fingerprint)) throw unprocessable('SSH Key is already in use on your account');
    const key: SshKey = { id: state.nextKeyId(), name: body.name, publicKey, fingerprint };
    state.keys.set(key.id, key);
    return { status: 201, body: { ssh_key: renderKey(key) } };
  });

  r.add('GET', '/v2/account/keys/:key', (req) => ({ status: 200, body: { ssh_key: renderKey(find(req)) } }));

  r.add('PUT', '/v2/account/keys/:key', (req) => {
    const key = find(req);
    const body = objectBody(req);
    if (body.name !== undefined) {
      if (typeof body.name !== 'string' || body.name === '') throw unprocessable('name must be a non-empty string');
      key.name = body.name;
    }
    return { status: 200, body: { ssh_key: renderKey(key) } };
  });

  r.add('DELETE', '/v2/account/keys/:key', (req) => {
    state.keys.delete(find(req).id);
    return { status: 204 };
  });
}
