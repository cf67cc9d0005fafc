import type { Config } from '../../config/schema.js';
import { ConfigError } from '../../errors.js';

/**
 * A login provider as OoD uses it. GitHub and Discord are plain OAuth 2 with a profile endpoint;
 * Google and every configured issuer are OpenID Connect, whose ID token is verified (issuer, audience,
 * nonce, signature) rather than trusted.
 */
export type LoginProvider =
  | { kind: 'oauth2'; name: 'github' | 'discord'; label: string; clientId: string; secret: string }
  | { kind: 'oidc'; name: string; label: string; clientId: string; secret: string; issuer: string };

const GOOGLE_ISSUER = 'https://accounts.google.com';

/** The environment variable that holds a provider's client secret. */
export const secretVariable = (name: string) => `OOD_OAUTH_${name.toUpperCase().replace(/-/g, '_')}_SECRET`;

/** The configured providers with their secrets; a provider without its secret is a start-up error. */
export function loginProviders(web: Config['web'], secrets: Readonly<Record<string, string>>): LoginProvider[] {
  const { github, discord, google, oidc } = web.providers;
  const out: LoginProvider[] = [];
  const missing: string[] = [];
  const secretOf = (name: string) => {
    const secret = secrets[name];
    if (!secret) missing.push(secretVariable(name));
    return secret ?? '';
  };
  if (github) out.push({ kind: 'oauth2', name: 'github', label: 'GitHub', clientId: github.clientId, secret: secretOf('github') });
  if (discord) out.push({ kind: 'oauth2', name: 'discord', label: 'Discord', clientId: discord.clientId, secret: secretOf('discord') });
  if (google) out.push({ kind: 'oidc', name: 'google', label: 'Google', clientId: google.clientId, secret: secretOf('google'), issuer: GOOGLE_ISSUER });
  for (const p of oidc) out.push({ kind: 'oidc', name: p.name, label: p.label ?? p.name, clientId: p.clientId, secret: secretOf(p.name), issuer: p.issuer.replace(/\/+$/, '') });
  if (missing.length > 0) throw new ConfigError(`web.providers: set ${missing.join(', ')} to the client secret${missing.length > 1 ? 's' : ''} of the OAuth application${missing.length > 1 ? 's' : ''} (secrets are never read from ood.yaml)`);
  return out;
}

/**
 * The provider's name inside grant, and so in `/connect/<key>` URLs. OpenID providers are `oidc-<name>`
 * so that one named like a grant built-in (gitlab, google) gets none of that built-in's settings.
 */
export const grantKey = (p: Pick<LoginProvider, 'kind' | 'name'>) => (p.kind === 'oidc' ? `oidc-${p.name}` : p.name);

/** The redirect URI to register with the provider. */
export const redirectUri = (p: Pick<LoginProvider, 'kind' | 'name'>, origin: string) => `${origin}/connect/${grantKey(p)}/callback`;

/** What grant needs to run each provider's OAuth round trip; OpenID endpoints are filled in per request from discovery. */
export function grantConfig(providers: readonly LoginProvider[], origin: string): Record<string, unknown> {
  const config: Record<string, unknown> = {
    // transport `state`: grant hands the result to the next middleware in the same request, so tokens
    // stay in memory and never reach the session store.
    defaults: { origin, prefix: '/connect', transport: 'state', state: true },
  };
  for (const p of providers) {
    const common = { key: p.clientId, secret: p.secret };
    if (p.name === 'github') config.github = { ...common, scope: ['read:user'], response: ['profile'] };
    else if (p.name === 'discord') config.discord = { ...common, scope: ['identify'], response: ['profile'] };
    // Named `oidc-<name>` inside grant so a provider called like one of grant's built-ins gets no built-in settings.
    else config[grantKey(p)] = { ...common, oauth: 2, scope: ['openid', 'profile', 'email'], scope_delimiter: ' ', nonce: true, response: ['tokens'] };
  }
  return config;
}
