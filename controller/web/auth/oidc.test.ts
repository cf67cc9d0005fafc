import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcIssuer } from './oidc.js';

/** A minimal issuer on loopback (discovery + JWKS) to check what OoD refuses; the full flow runs against oidc-provider in test/web-browser.test.ts. */
describe('ID token verification', () => {
  let server: Server;
  let issuer: string;
  let key: CryptoKey;
  let stranger: CryptoKey;
  let jwk: JWK;
  let claimedIssuer: string | undefined;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    key = pair.privateKey;
    ({ privateKey: stranger } = await generateKeyPair('RS256'));
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer: claimedIssuer ?? issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` }));
      } else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [jwk] }));
      else res.writeHead(404).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const token = (claims: Record<string, unknown>, o: { signer?: CryptoKey; aud?: string; iss?: string; exp?: string } = {}) =>
    new SignJWT({ nonce: 'n-1', name: 'Alice', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('alice')
      .setIssuer(o.iss ?? issuer)
      .setAudience(o.aud ?? 'ood')
      .setIssuedAt()
      .setExpirationTime(o.exp ?? '5m')
      .sign(o.signer ?? key);

  it('accepts a token signed by the issuer, for this client, with the nonce this login sent', async () => {
    const claims = await new OidcIssuer(issuer, 'ood').verify(await token({}), 'n-1');
    expect(claims.sub).toBe('alice');
  });

  it('refuses a wrong nonce, audience, issuer, signature or an expired token, saying which', async () => {
    const oidc = new OidcIssuer(issuer, 'ood');
    await expect(oidc.verify(await token({}), 'n-2')).rejects.toThrow(/nonce/);
    await expect(oidc.verify(await token({ nonce: undefined }), 'n-1')).rejects.toThrow(/nonce/);
    await expect(oidc.verify(await token({}, { aud: 'someone-else' }), 'n-1')).rejects.toThrow(/aud/);
    await expect(oidc.verify(await token({}, { iss: 'http://127.0.0.1:1' }), 'n-1')).rejects.toThrow(/iss/);
    await expect(oidc.verify(await token({}, { signer: stranger }), 'n-1')).rejects.toThrow(/signature/);
    await expect(oidc.verify(await token({}, { exp: '-2h' }), 'n-1')).rejects.toThrow(/exp/);
    await expect(oidc.verify('not.a.jwt', 'n-1')).rejects.toThrow(/did not verify/);
  });

  it('refuses a discovery document that names another issuer, and tries discovery again after a failure', async () => {
    claimedIssuer = 'https://evil.example';
    const oidc = new OidcIssuer(issuer, 'ood');
    await expect(oidc.discovery()).rejects.toThrow(/names the issuer https:\/\/evil\.example/);
    claimedIssuer = undefined;
    expect((await oidc.discovery()).jwks_uri).toBe(`${issuer}/jwks`);
    await expect(new OidcIssuer('http://127.0.0.1:1', 'ood').discovery()).rejects.toThrow(/Could not read http:\/\/127\.0\.0\.1:1/);
  });
});
