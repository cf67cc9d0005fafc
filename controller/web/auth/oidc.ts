import type { JWTPayload, createRemoteJWKSet } from 'jose';
import { z } from 'zod';
import { messageOf } from '../../errors.js';

/** A login that could not be completed or checked: said to the person, and logged without secrets. */
export class LoginError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoginError';
  }
}

const discoveryDocument = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
});

export type Discovery = z.infer<typeof discoveryDocument>;

/**
 * One OpenID Connect issuer: its discovery document (fetched when first needed, kept an hour, fetched
 * again after a failure) and its signing keys (jose's JWKS cache, which refetches on an unknown kid).
 */
export class OidcIssuer {
  private discovered: { at: number; value: Promise<Discovery> } | undefined;
  private keys: { uri: string; set: ReturnType<typeof createRemoteJWKSet> } | undefined;

  constructor(
    readonly issuer: string,
    private readonly clientId: string,
    private readonly clock: () => number = Date.now,
  ) {}

  discovery(): Promise<Discovery> {
    const now = this.clock();
    if (!this.discovered || now - this.discovered.at > 3_600_000) {
      const value = this.fetchDiscovery();
      this.discovered = { at: now, value };
      // A failed fetch is not kept: the next login tries again.
      value.catch(() => {
        if (this.discovered?.value === value) this.discovered = undefined;
      });
    }
    return this.discovered.value;
  }

  private async fetchDiscovery(): Promise<Discovery> {
    const url = `${this.issuer}/.well-known/openid-configuration`;
    let body: unknown;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = await response.json();
    } catch (err) {
      throw new LoginError(`Could not read ${url}: ${messageOf(err)}`, { cause: err });
    }
    const parsed = discoveryDocument.safeParse(body);
    if (!parsed.success) throw new LoginError(`${url} is not an OpenID discovery document: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    // OpenID Connect Discovery 1.0, section 4.3: the document must name exactly the issuer it was fetched for.
    if (parsed.data.issuer.replace(/\/+$/, '') !== this.issuer) throw new LoginError(`${url} names the issuer ${parsed.data.issuer}, not ${this.issuer}`);
    return parsed.data;
  }

  /** Verifies an ID token: signature against the issuer's keys, issuer, audience, expiry, and the nonce this login sent. */
  async verify(idToken: string, nonce: string): Promise<JWTPayload & { sub: string }> {
    const { jwks_uri, issuer } = await this.discovery();
    // Loaded at the first OpenID login: an OoD without such a provider never pays for it (about 10 MB).
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    if (this.keys?.uri !== jwks_uri) this.keys = { uri: jwks_uri, set: createRemoteJWKSet(new URL(jwks_uri), { timeoutDuration: 10_000 }) };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.keys.set, { issuer, audience: this.clientId, clockTolerance: 60 }));
    } catch (err) {
      throw new LoginError(`The ID token from ${this.issuer} did not verify: ${messageOf(err)}`, { cause: err });
    }
    if (payload.nonce !== nonce) throw new LoginError(`The ID token from ${this.issuer} carries a nonce this login did not send`);
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new LoginError(`The ID token from ${this.issuer} names no subject`);
    return payload as JWTPayload & { sub: string };
  }
}
