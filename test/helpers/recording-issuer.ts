import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface RecordingIssuer {
  /** http://127.0.0.1:PORT, no trailing slash. */
  issuer: string;
  /** Every request its token endpoint received: the form fields and the Authorization header. */
  tokenRequests: { form: Record<string, string>; authorization: string | undefined }[];
  close(): Promise<void>;
}

/**
 * A minimal OpenID issuer on loopback: discovery, keys, and a token endpoint that records what it is
 * sent. There is no login step: a test reads the nonce from OoD's redirect to `/authorize` and passes
 * it back as the `code`, and the ID token for that code carries it as its nonce (sub `sub`).
 */
export async function startRecordingIssuer(o: { clientId: string; sub: string }): Promise<RecordingIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const tokenRequests: RecordingIssuer['tokenRequests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void answer(req.url ?? '/', Buffer.concat(chunks).toString(), req.headers.authorization).then(
        (body) => {
          res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body ?? { error: 'not_found' }));
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const answer = async (url: string, body: string, authorization: string | undefined): Promise<unknown> => {
    const path = url.split('?')[0];
    if (path === '/.well-known/openid-configuration') {
      return { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` };
    }
    if (path === '/jwks') return { keys: [jwk] };
    if (path !== '/token') return undefined;
    const form = Object.fromEntries(new URLSearchParams(body));
    tokenRequests.push({ form, authorization });
    const idToken = await new SignJWT({ nonce: form.code, name: 'Recorded Person' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(o.clientId)
      .setSubject(o.sub)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    return { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken };
  };

  return {
    issuer,
    tokenRequests,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
