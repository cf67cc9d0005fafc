import { z } from 'zod';
import { LoginError } from './oidc.js';

/** Who logged in, as OoD records it. */
export interface LoginIdentity {
  identity: string;
  name: string | null;
  avatar: string | null;
}

const githubUser = z.object({ id: z.number(), login: z.string(), name: z.string().nullish(), avatar_url: z.string().nullish() });
const discordUser = z.object({ id: z.string(), username: z.string(), global_name: z.string().nullish(), avatar: z.string().nullish() });

/** Only https pictures: the page's CSP loads no other, and a `javascript:` URL must never reach an attribute. */
const httpsOnly = (url: unknown) => (typeof url === 'string' && /^https:\/\/[^\s"'<>]+$/.test(url) ? url : null);

/** The identity in a GitHub or Discord profile, as grant fetched it. */
export function oauth2Identity(provider: 'github' | 'discord', profile: unknown): LoginIdentity {
  if (provider === 'github') {
    const user = githubUser.safeParse(profile);
    if (!user.success) throw new LoginError(`GitHub sent no usable profile: ${profileProblem(profile, user.error)}`);
    return { identity: `github:${user.data.id}`, name: user.data.name || user.data.login, avatar: httpsOnly(user.data.avatar_url) };
  }
  const user = discordUser.safeParse(profile);
  if (!user.success) throw new LoginError(`Discord sent no usable profile: ${profileProblem(profile, user.error)}`);
  const avatar = user.data.avatar ? `https://cdn.discordapp.com/avatars/${user.data.id}/${user.data.avatar}.png?size=64` : null;
  return { identity: `discord:${user.data.id}`, name: user.data.global_name || user.data.username, avatar };
}

/** The identity in a verified ID token. */
export function oidcIdentity(provider: string, claims: { sub: string } & Record<string, unknown>): LoginIdentity {
  const name = [claims.name, claims.preferred_username, claims.email].find((v): v is string => typeof v === 'string' && v.length > 0) ?? null;
  return { identity: `${provider}:${claims.sub}`, name, avatar: httpsOnly(claims.picture) };
}

function profileProblem(profile: unknown, error: z.ZodError): string {
  // grant puts a failed profile request's error in the profile itself.
  if (typeof profile === 'object' && profile !== null && 'error' in profile) return `the profile request failed (${JSON.stringify((profile as { error: unknown }).error).slice(0, 200)})`;
  return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}
